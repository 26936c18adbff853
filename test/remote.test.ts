/**
 * End-to-end tests for `grove sync push` and `grove sync fetch` (src/remote):
 * real git, a bare repository as the remote, and clones in temp dirs. Each
 * clone has its own default database (<clone>/.git/grove/grove.db, GROVE_DB is
 * never set) and so its own replica id; every grove command is the real CLI in
 * its own process. Databases are read back read-only with bun:sqlite.
 */
import { describe, expect, test } from "bun:test"
import type { Database } from "bun:sqlite"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { eventDigest } from "../src/events/chain.ts"
import { newEventId } from "../src/events/ids.ts"
import { type Bundle, sha256 } from "../src/remote/Bundle.ts"
import { checkpointMessage } from "../src/remote/Signing.ts"
import { type Clone, git, gitBytes, gitSucceeds, groveEntry, makeClone, makeWorld, scratch, withDb, type World } from "./support/index.ts"

const temp = scratch("all")

/**
 * The tests run concurrently (each has its own remote and clones): every CLI
 * spawn loads the whole program (about 0.3-0.5 s on a 2-core machine), so a
 * test's wall time is about the whole file's.
 */
const timeout = 400_000

// ---------------------------------------------------------------------------
// Clones and the remote.

const two = (w: World): [Clone, Clone] => [w.clones[0]!, w.clones[1]!]

/** grove's refs in a (bare) repository: ref below refs/grove/ -> commit. */
const groveRefs = (repo: string): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const line of git(repo, "for-each-ref", "--format=%(objectname) %(refname)", "refs/grove/").split("\n")) {
    if (line === "") continue
    const [commit, name] = line.split(" ") as [string, string]
    out[name.slice("refs/grove/".length)] = commit
  }
  return out
}

const isAncestor = (repo: string, ancestor: string, commit: string) => gitSucceeds(repo, "merge-base", "--is-ancestor", ancestor, commit)

// ---------------------------------------------------------------------------
// Reading a clone's database (read-only).

const readDb = <A>(c: Clone, f: (db: Database) => A): A => withDb(c.db, f, { readonly: true })

const replicaOf = (c: Clone): string => readDb(c, (db) => (db.query("SELECT name FROM replicas WHERE id = 1").get() as { name: string }).name)

/** Every event as any clone would name it: id, clock, stream (replica, branch) and position, content and origin. */
const portableEvents = (c: Clone) =>
  readDb(c, (db) =>
    db.query(
      `SELECT e.id, e.clock, r.name AS replica, s.branch, e.pos, e.entity_kind, e.entity_id, e.op, e.payload, e.cause_id, e.digest,
              e.if_version, t.actor, t.worktree, t.head
       FROM events e JOIN streams s ON s.id = e.stream_id JOIN replicas r ON r.id = s.replica_id JOIN transactions t ON t.id = e.tx_id
       ORDER BY e.id`
    ).all())

/** Everything an import or a refused fetch could change, in local form. */
const localState = (c: Clone) =>
  readDb(c, (db) => ({
    events: db.query("SELECT * FROM events ORDER BY seq").all(),
    transactions: db.query("SELECT count(*) AS n FROM transactions").get(),
    streams: db.query("SELECT * FROM streams ORDER BY id").all(),
    hlc: db.query("SELECT last FROM hlc").get(),
    tasks: db.query("SELECT * FROM tasks ORDER BY id").all(),
    epics: db.query("SELECT * FROM epics ORDER BY id").all()
  }))

/** The live projection tables, as `verify` checksums them (cheap to compare between clones mid-test). */
const projection = (c: Clone) =>
  readDb(c, (db) => ({
    epics: db.query("SELECT * FROM epics ORDER BY id").all(),
    tasks: db.query("SELECT * FROM tasks ORDER BY id").all(),
    subtasks: db.query("SELECT * FROM subtasks ORDER BY id").all(),
    dependencies: db.query("SELECT * FROM dependencies ORDER BY source_id, target_id").all()
  }))

/** Every conflict record in the database, any scope: entity, field, status. */
const conflictRows = (c: Clone) =>
  readDb(c, (db) => db.query("SELECT entity_id, field, status FROM conflicts ORDER BY id").all())

const eventCount = (c: Clone): number => readDb(c, (db) => (db.query("SELECT count(*) AS n FROM events").get() as { n: number }).n)

const quarantineRows = (c: Clone) =>
  readDb(c, (db) =>
    db.query("SELECT remote, ref, tip, code, detail FROM remote_quarantine ORDER BY id").all() as Array<
      { remote: string; ref: string; tip: string; code: string; detail: string }
    >)

/** `grove verify`: the live tables equal a replay of the log; returns the per-table row counts and checksums. */
const checksums = async (c: Clone) => {
  const v = await c.ok("verify")
  expect(v.identical).toBe(true)
  return (v.tables as Array<any>).map((t) => ({ table: t.table, rows: t.live.rows, checksum: t.live.checksum }))
}

/** A task's live title, as the projection holds it. */
/** `verify` in both clones (in parallel): both consistent, and the same checksums per table. */
const expectSameChecksums = async (x: Clone, y: Clone) => {
  const [sx, sy] = await Promise.all([checksums(x), checksums(y)])
  expect(sy).toEqual(sx)
  return sx
}

const title = (c: Clone, id: string): string | undefined =>
  readDb(c, (db) => (db.query("SELECT title FROM tasks WHERE id = ?").get(id) as { title: string } | null)?.title)

/** The id of the task with this title. */
const task0 = (c: Clone, taskTitle: string): string =>
  readDb(c, (db) => (db.query("SELECT id FROM tasks WHERE title = ?").get(taskTitle) as { id: string }).id)

const pendingConflicts = async (c: Clone) => ((await c.ok("sync", "conflicts", "list")) as Array<any>).filter((x) => x.status === "pending")

/** An epic with one task, created in `c`. */
const seedTask = async (c: Clone, taskTitle = "Index documents") => {
  const epic = (await c.ok("epic", "create", "--title", "Search")).id as string
  const task = (await c.ok("task", "create", "--epic", epic, "--title", taskTitle)).id as string
  return { epic, task }
}

// ---------------------------------------------------------------------------
// Rewriting a grove ref behind grove's back, in a scratch repository.

interface Entry {
  readonly name: string
  readonly blob: string
}

const workRepo = (w: World): string => {
  const work = NodePath.join(w.base, "tamper")
  if (!NodeFs.existsSync(work)) {
    NodeFs.mkdirSync(work)
    git(work, "init", "-q", "-b", "main")
  }
  git(work, "fetch", "-q", "--no-tags", w.bare, "+refs/grove/*:refs/grove/*")
  return work
}

const treeOf = (work: string, commit: string): Array<Entry> =>
  git(work, "ls-tree", commit).split("\n").filter((l) => l !== "").map((line) => {
    const [meta, name] = line.split("\t") as [string, string]
    return { name, blob: meta.split(" ")[2]! }
  })

const readBlob = (work: string, blob: string): Buffer => gitBytes(work, undefined, "cat-file", "blob", blob)
const writeBlob = (work: string, bytes: Uint8Array): string => gitBytes(work, bytes, "hash-object", "-w", "--stdin").toString().trim()

/** A commit holding `entries`, on top of `parent` (none: a new root). */
const commitTree = (work: string, entries: ReadonlyArray<Entry>, parent: string | undefined, message: string): string => {
  const tree = gitBytes(work, Buffer.from(entries.map((e) => `100644 blob ${e.blob}\t${e.name}\n`).join("")), "mktree").toString().trim()
  return git(work, "commit-tree", tree, ...(parent === undefined ? [] : ["-p", parent]), "-m", message)
}

/** The content-addressed name grove gives these bytes at these positions. */
const bundleName = (from: number, to: number, bytes: Uint8Array) =>
  `${String(from).padStart(12, "0")}-${String(to).padStart(12, "0")}-${sha256(bytes)}`

/** A bundle appended by an attacker: `template`'s last event made into a new one at the next position, its title changed. */
const forgeNext = (template: Bundle, title: string, actor: string): Bundle => {
  const last = template.events[template.events.length - 1]!
  const tx = { ...template.transactions[last.tx]!, actor }
  const pos = template.to + 1
  const payload = last.payload.replace(/"title":"[^"]*"/, `"title":${JSON.stringify(title)}`)
  expect(payload).not.toBe(last.payload)
  const event = { ...last, id: newEventId(), pos, tx: 0, clock: last.clock + 1, payload }
  // The chain recomputed, as anyone can: the forgery is consistent, so only a signature can tell it apart.
  const digest = eventDigest(last.digest!, {
    id: event.id, replica: template.replica, branch: template.branch, pos, clock: event.clock, entityKind: event.kind, entityId: event.entity,
    op: event.op, payload, payloadVersion: event.payloadVersion, causeId: event.cause, ifVersion: event.ifVersion, worktree: tx.worktree,
    head: tx.head, actor: tx.actor, at: tx.at
  })
  const { signature: _, ...unsigned } = template
  return { ...unsigned, from: pos, to: pos, transactions: [tx], events: [{ ...event, digest }] }
}

const b64 = (bytes: ArrayBuffer) => Buffer.from(bytes).toString("base64")

/** The attacker's own ed25519 key: signs a bundle's checkpoint, as grove does (src/remote/Signing.ts). */
const attackerKey = async () => {
  const pair = (await crypto.subtle.generateKey("Ed25519", true, ["sign", "verify"])) as CryptoKeyPair
  const publicKey = b64(await crypto.subtle.exportKey("raw", pair.publicKey))
  const signature = async (b: Bundle) =>
    b64(await crypto.subtle.sign("Ed25519", pair.privateKey, checkpointMessage(b.replica, b.branch, b.to, b.events.at(-1)!.digest!)))
  return { publicKey, signature }
}

/** A bundle's bytes and name, as grove would write them. */
const bundleFile = (b: Bundle) => {
  const bytes = new TextEncoder().encode(JSON.stringify(b))
  return { name: bundleName(b.from, b.to, bytes), bytes }
}

// ---------------------------------------------------------------------------

describe("sync push / sync fetch between clones", () => {
  test.concurrent("round trip: the other clone gets the same events (ids, clocks, positions) and the same projection; a second fetch changes nothing", async () => {
    const w = makeWorld(temp, ["alice", "bob"])
    const [a, b] = two(w)
    const { epic, task } = await seedTask(a)
    await a.ok("task", "update", task, "--description", "every file")
    // A second branch, with a slash in its name (URI-encoded in the ref).
    git(a.dir, "checkout", "-q", "-b", "feature/search")
    const other = (await a.ok("task", "create", "--epic", epic, "--title", "Rank results")).id as string
    git(a.dir, "checkout", "-q", "main")

    const ra = replicaOf(a)
    expect(ra).toMatch(/^[0-9a-f]{16}$/)

    // feature/search holds the task and, when main had written before the second it was created in, the knowledge it
    // started with (a fork knowledge event, docs/sync.md "New branches").
    const onFeature = readDb(a, (db) =>
      (db.query("SELECT count(*) AS n FROM events e JOIN streams s ON s.id = e.stream_id WHERE s.name = 'feature/search'").get() as { n: number }).n)
    expect([1, 2]).toContain(onFeature)
    const pushed = await a.ok("sync", "push")
    expect(pushed).toMatchObject({ remote: "origin", attempts: 1, fetched: { refs: 0, imported: 0, refused: [] } })
    expect([...pushed.pushed].sort((x: any, y: any) => x.ref.localeCompare(y.ref))).toEqual([
      { ref: `${ra}/feature%2Fsearch`, from: 1, to: onFeature },
      { ref: `${ra}/main`, from: 1, to: 3 }
    ])
    expect(Object.keys(groveRefs(w.bare)).sort()).toEqual([`${ra}/feature%2Fsearch`, `${ra}/main`])

    const fetched = await b.ok("sync", "fetch")
    expect(fetched).toMatchObject({ remote: "origin", refs: 2, imported: 3 + onFeature, known: 0, waiting: 0, quarantined: 0, refused: [] })
    expect(replicaOf(b)).not.toBe(ra) // B's database is its own replica
    // The same events: ids, clocks, streams, positions, payloads and git context.
    const eventsA = portableEvents(a)
    expect(eventsA).toHaveLength(3 + onFeature)
    expect(portableEvents(b)).toEqual(eventsA)
    // Imported streams are named branch@replica; the tracking refs mirror the remote's.
    expect(readDb(b, (db) => db.query("SELECT name FROM streams ORDER BY name").all())).toEqual([
      { name: `feature/search@${ra}` },
      { name: `main@${ra}` }
    ])
    expect(git(b.dir, "for-each-ref", "--format=%(refname)", "refs/grove-remotes/origin/").split("\n").sort()).toEqual([
      `refs/grove-remotes/origin/${ra}/feature%2Fsearch`,
      `refs/grove-remotes/origin/${ra}/main`
    ])
    expect(title(b, task)).toBe("Index documents")
    expect(title(b, other)).toBe("Rank results")
    expect(await b.ok("task", "show", task)).toEqual(await a.ok("task", "show", task))
    const sums = await expectSameChecksums(a, b)
    expect(sums.find((t) => t.table === "tasks")!.rows).toBe(2)

    // Idempotent: the second fetch imports nothing and changes nothing.
    const before = localState(b)
    const again = await b.ok("sync", "fetch")
    expect(again).toMatchObject({ refs: 2, imported: 0, known: 3 + onFeature, waiting: 0, refused: [] })
    expect(localState(b)).toEqual(before)
    expect(await checksums(b)).toEqual(sums)

    // Pushing again has nothing to push, from either side; B relays nothing A's ref lacks and has no stream of its own.
    const tips = groveRefs(w.bare)
    expect(await a.ok("sync", "push")).toMatchObject({ pushed: [], attempts: 1 })
    expect(await b.ok("sync", "push")).toMatchObject({ pushed: [], attempts: 1 })
    expect(groveRefs(w.bare)).toEqual(tips)
    expect(localState(b)).toEqual(before)
  }, timeout)

  test.concurrent("concurrent edits of one field conflict in both clones after fetch + pull, and both show the greatest clock's value; causally ordered edits do not", async () => {
    const w = makeWorld(temp, ["alice", "bob"])
    const [a, b] = two(w)
    const { epic, task } = await seedTask(a)
    const task2 = (await a.ok("task", "create", "--epic", epic, "--title", "Second")).id as string
    await a.ok("sync", "push")
    expect((await b.ok("sync", "fetch")).imported).toBe(3)
    expect((await b.ok("sync", "pull", "--from", "main")).scanned).toBe(3)

    // Both edit the title, neither knowing of the other's edit; B's is the later one.
    await a.ok("task", "update", task, "--title", "Title by alice")
    await b.ok("task", "update", task, "--title", "Title by bob")
    await a.ok("sync", "push")
    const bPush = await b.ok("sync", "push")
    expect(bPush.fetched.imported).toBe(1) // push fetches first
    // B's pull left a knowledge event on its main, then its edit.
    expect(bPush.pushed).toEqual([{ ref: `${replicaOf(b)}/main`, from: 1, to: 2 }])
    expect((await a.ok("sync", "fetch")).imported).toBe(2)

    const clockOf = (c: Clone, actor: string) =>
      readDb(c, (db) =>
        (db.query(
          "SELECT e.clock FROM events e JOIN transactions t ON t.id = e.tx_id WHERE e.entity_id = ? AND e.op = 'task.updated' AND t.actor = ?"
        ).get(task, actor) as { clock: number }).clock)
    expect(clockOf(a, "bob")).toBeGreaterThan(clockOf(a, "alice"))

    // Fetch alone records no conflict (it changes no stream's knowledge here): pull does.
    expect(readDb(a, (db) => db.query("SELECT count(*) AS n FROM conflicts").get())).toEqual({ n: 0 })
    const pulls = await Promise.all([a.ok("sync", "pull", "--from", "main"), b.ok("sync", "pull", "--from", "main")])
    expect(pulls.map((p) => p.conflictsCreated)).toEqual([1, 1])
    const [conflictsA, conflictsB] = await Promise.all([pendingConflicts(a), pendingConflicts(b)])
    expect(conflictsA).toHaveLength(1)
    expect(conflictsB).toHaveLength(1)
    expect(conflictsA[0]).toMatchObject({
      entity: { kind: "task", id: task },
      field: "title",
      base: "Index documents",
      ours: "Title by alice",
      theirs: "Title by bob"
    })
    expect(conflictsB[0]).toMatchObject({
      entity: { kind: "task", id: task },
      field: "title",
      base: "Index documents",
      ours: "Title by bob",
      theirs: "Title by alice"
    })
    // The live state is the greatest clock's write, in both.
    expect(title(a, task)).toBe("Title by bob")
    expect(title(b, task)).toBe("Title by bob")
    expect(projection(b)).toEqual(projection(a))

    // Causally ordered: B learns A's edit (fetch + pull) before editing; A learns B's edit: no conflict anywhere.
    // Each fetch below also imports the knowledge events of the other clone's pulls since its last push.
    await a.ok("task", "update", task2, "--title", "Second, by alice")
    await a.ok("sync", "push")
    expect((await b.ok("sync", "fetch")).imported).toBe(2)
    expect((await b.ok("sync", "pull", "--from", "main")).conflictsCreated).toBe(0)
    await b.ok("task", "update", task2, "--title", "Second, by bob after alice")
    await b.ok("sync", "push")
    expect((await a.ok("sync", "fetch")).imported).toBe(3) // B's edit and its two pulls' knowledge events
    expect((await a.ok("sync", "pull", "--from", "main")).conflictsCreated).toBe(0)
    for (const c of [a, b]) expect(conflictRows(c)).toEqual([{ entity_id: task, field: "title", status: "pending" }])
    expect(title(a, task2)).toBe("Second, by bob after alice")
    expect(title(b, task2)).toBe("Second, by bob after alice")

    // A settles the conflict with its own value; the resolution travels: B's record is settled by B's next pull.
    const resolved = await a.ok("sync", "resolve", String(conflictsA[0].id), "--use", "ours")
    expect(resolved.resolutions[0]).toMatchObject({ field: "title", value: "Title by alice" })
    await a.ok("sync", "push")
    expect((await b.ok("sync", "fetch")).imported).toBe(2)
    expect(await b.ok("sync", "pull", "--from", "main")).toMatchObject({ conflictsCreated: 0, conflictsSettled: 1 })
    for (const c of [a, b]) expect(conflictRows(c)).toEqual([{ entity_id: task, field: "title", status: "settled" }])
    expect(title(a, task)).toBe("Title by alice")
    expect(title(b, task)).toBe("Title by alice")
    // B's last pull left a knowledge event: once it travels, both clones hold the same log.
    await b.ok("sync", "push")
    expect((await a.ok("sync", "fetch")).imported).toBe(1)
    expect(portableEvents(b)).toEqual(portableEvents(a))
    await expectSameChecksums(a, b)
  }, timeout)

  test.concurrent("an older event imported after a newer local one does not overwrite it", async () => {
    const w = makeWorld(temp, ["alice", "bob"])
    const [a, b] = two(w)
    const { task } = await seedTask(a)
    await a.ok("sync", "push")
    await b.ok("sync", "fetch")
    await b.ok("sync", "pull", "--from", "main")

    await a.ok("task", "update", task, "--title", "older, by alice")
    await b.ok("task", "update", task, "--title", "newer, by bob")
    expect((await a.ok("sync", "push")).fetched.imported).toBe(0) // B has not pushed: A does not know B's edit

    // B imports A's older edit after its own newer one.
    expect((await b.ok("sync", "fetch")).imported).toBe(1)
    const edits = readDb(b, (db) =>
      db.query(
        "SELECT e.seq, e.clock, t.actor FROM events e JOIN transactions t ON t.id = e.tx_id WHERE e.op = 'task.updated' ORDER BY e.seq"
      ).all() as Array<{ seq: number; clock: number; actor: string }>)
    expect(edits.map((e) => e.actor)).toEqual(["bob", "alice"]) // alice's edit came in second ...
    expect(edits[1]!.clock).toBeLessThan(edits[0]!.clock) // ... with the smaller clock
    expect(title(b, task)).toBe("newer, by bob")
    expect((await b.ok("task", "show", task)).updatedClock).toBe(edits[0]!.clock)

    await b.ok("sync", "push")
    // B's edit, and the knowledge event of its pull.
    expect((await a.ok("sync", "fetch")).imported).toBe(2)
    expect(title(a, task)).toBe("newer, by bob")
    expect(portableEvents(b)).toEqual(portableEvents(a))
    await expectSameChecksums(a, b)
  }, timeout)

  test.concurrent("a tampered bundle is refused (bundle_corrupt, or history_rewritten where the ref was imported before); the other refs are imported", async () => {
    const w = makeWorld(temp, ["alice", "bob", "carol", "dave"])
    const [a, b] = two(w)
    const c = w.clones[2]!
    const d = w.clones[3]!
    const { task } = await seedTask(a)
    await a.ok("sync", "push")
    const ref = `${replicaOf(a)}/main`
    // Dave imports A's ref before it is tampered with; Carol publishes an unrelated stream.
    expect((await d.ok("sync", "fetch")).imported).toBe(2)
    await c.ok("epic", "create", "--title", "Carol's epic")
    await c.ok("sync", "push")
    const carolRef = `${replicaOf(c)}/main`

    // 1. A fast-forward that edits the bundle's bytes: it no longer hashes to its name.
    const work = workRepo(w)
    const tip0 = git(work, "rev-parse", `refs/grove/${ref}`)
    const [original] = treeOf(work, tip0)
    expect(treeOf(work, tip0)).toHaveLength(1)
    const bytes = readBlob(work, original!.blob)
    const edited = Buffer.from(bytes.toString().replace("Index documents", "Index DOCUMENTS"))
    expect(edited.equals(bytes)).toBe(false)
    const tip1 = commitTree(work, [{ name: original!.name, blob: writeBlob(work, edited) }], tip0, "edit a bundle")
    git(work, "push", "-q", w.bare, `${tip1}:refs/grove/${ref}`) // not forced: a fast-forward

    expect(NodeFs.existsSync(b.db)).toBe(false) // B has never run grove
    const e1 = await b.fails("sync", "fetch")
    expect(e1.code).toBe("bundle_corrupt")
    expect(e1.details.refused).toEqual([{ ref, code: "bundle_corrupt", detail: expect.stringContaining("not to its name") }])
    expect(e1.details.imported).toBe(1) // Carol's epic: the other ref is imported
    expect(readDb(b, (db) => db.query("SELECT e.op, s.name FROM events e JOIN streams s ON s.id = e.stream_id").all())).toEqual([
      { op: "epic.created", name: `main@${replicaOf(c)}` }
    ])
    expect(title(b, task)).toBeUndefined()
    expect((await b.run("task", "show", task)).json.error.code).toBe("not_found")
    expect(quarantineRows(b)).toEqual([{ remote: "origin", ref, tip: tip1, code: "bundle_corrupt", detail: expect.stringContaining("hashes to") }])
    expect((await checksums(b)).find((t) => t.table === "epics")!.rows).toBe(1)

    // Dave had imported the ref: the edited bundle rewrites what he verified.
    const dBefore = localState(d)
    const e2 = await d.fails("sync", "fetch")
    expect(e2.code).toBe("history_rewritten")
    expect(e2.details.refused).toEqual([{ ref, code: "history_rewritten", detail: expect.any(String) }])
    expect(e2.details.imported).toBe(1) // Carol's epic
    const dAfter = localState(d)
    expect(dAfter.events.slice(0, dBefore.events.length)).toEqual(dBefore.events)
    expect(dAfter.tasks).toEqual(dBefore.tasks)
    expect(title(d, task)).toBe("Index documents")
    expect(quarantineRows(d)).toEqual([{ remote: "origin", ref, tip: tip1, code: "history_rewritten", detail: expect.any(String) }])

    // 2. A bundle that hashes to its name but is truncated JSON (fast-forward on top of the edit).
    const half = bytes.subarray(0, Math.floor(bytes.length / 2))
    const truncatedName = bundleName(1, 2, half)
    expect(truncatedName.slice(0, 26)).toBe(original!.name.slice(0, 26))
    const tip2 = commitTree(work, [{ name: truncatedName, blob: writeBlob(work, half) }], tip1, "truncate a bundle")
    git(work, "push", "-q", w.bare, `${tip2}:refs/grove/${ref}`)
    const e3 = await b.fails("sync", "fetch")
    expect(e3.code).toBe("bundle_corrupt")
    expect(e3.details.refused).toEqual([{ ref, code: "bundle_corrupt", detail: expect.stringContaining("is not a grove bundle") }])
    expect(eventCount(b)).toBe(1) // still only Carol's epic
    expect(quarantineRows(b).map((r) => [r.tip, r.code])).toEqual([[tip1, "bundle_corrupt"], [tip2, "bundle_corrupt"]])
    // Carol's ref was verified; A's (refused) was not.
    expect(readDb(b, (db) => db.query("SELECT ref FROM remote_refs ORDER BY ref").all())).toEqual([{ ref: carolRef }])
    expect(groveRefs(w.bare)[carolRef]).toBeDefined()
  }, timeout)

  test.concurrent("signed bundles: a forged bundle appended to a replica's ref (re-signed by another key, a bad signature, or unsigned) is refused with bundle_unauthenticated; other refs import; relays keep the signatures", async () => {
    const w = makeWorld(temp, ["alice", "bob", "carol", "dave"])
    const [a, b] = two(w)
    const c = w.clones[2]!
    const d = w.clones[3]!
    const { task } = await seedTask(a)
    expect((await a.ok("sync", "replica")).publicKey).toBeNull() // ordinary commands create no key
    await a.ok("sync", "push")
    const aKey = (await a.ok("sync", "replica")).publicKey as string
    expect(aKey).toMatch(/^[A-Za-z0-9+/]{43}=$/) // 32 raw bytes
    const ref = `${replicaOf(a)}/main`
    const work = workRepo(w)
    const tip0 = git(work, "rev-parse", `refs/grove/${ref}`)
    const [genuine] = treeOf(work, tip0)
    const published = JSON.parse(readBlob(work, genuine!.blob).toString()) as Bundle
    expect(published.signature!.key).toBe(aKey)

    // Bob pins Alice's key on first sight.
    expect((await b.ok("sync", "fetch")).imported).toBe(2)
    expect((await b.ok("sync", "replica")).pinned).toEqual([{ replica: replicaOf(a), publicKey: aKey, remote: "origin", pinnedAt: expect.any(String) }])

    // Dave's stream as an older grove pushed it: unsigned (his signed bundle, its signature removed).
    await d.ok("epic", "create", "--title", "Dave's epic")
    await d.ok("sync", "push")
    const daveRef = `${replicaOf(d)}/main`
    const daveTip = git(workRepo(w), "rev-parse", `refs/grove/${daveRef}`)
    const { signature: _, ...daveUnsigned } = JSON.parse(readBlob(work, treeOf(work, daveTip)[0]!.blob).toString()) as Bundle
    const daveFile = bundleFile(daveUnsigned)
    git(work, "push", "-q", "--force", w.bare, `${commitTree(work, [{ name: daveFile.name, blob: writeBlob(work, daveFile.bytes) }], undefined, "unsigned")}:refs/grove/${daveRef}`)

    // The attacker appends a consistent forgery (chain recomputed) as a normal fast-forward on Alice's ref.
    const attacker = await attackerKey()
    const append = async (forged: Bundle, parent: string, message: string) => {
      const file = bundleFile(forged)
      const tip = commitTree(work, [genuine!, { name: file.name, blob: writeBlob(work, file.bytes) }], parent, message)
      git(work, "push", "-q", w.bare, `${tip}:refs/grove/${ref}`)
      return tip
    }
    const bBefore = localState(b)
    const expectRefused = async (clone: Clone, detail: string) => {
      const e = await clone.fails("sync", "fetch")
      expect(e.code).toBe("bundle_unauthenticated")
      expect(e.details.refused).toEqual([{ ref, code: "bundle_unauthenticated", detail: expect.stringContaining(detail) }])
      return e
    }

    // 1. Re-signed with the attacker's own key.
    const forged1 = forgeNext(published, "Forged by mallory", "alice")
    const tip1 = await append({ ...forged1, signature: { key: attacker.publicKey, sig: await attacker.signature(forged1) } }, tip0, "append")
    const e1 = await expectRefused(b, `signed by key ${attacker.publicKey}, not by replica ${replicaOf(a)}'s key ${aKey}`)
    expect(e1.details.imported).toBe(1) // Dave's epic: the other ref still imports ...
    expect(e1.details.unsigned).toEqual([daveRef]) // ... reported as not authenticated
    const bAfter = localState(b)
    expect(bAfter.events.slice(0, bBefore.events.length)).toEqual(bBefore.events)
    expect(bAfter.tasks).toEqual(bBefore.tasks)
    expect(title(b, task)).toBe("Index documents")
    expect(quarantineRows(b)).toEqual([{ remote: "origin", ref, tip: tip1, code: "bundle_unauthenticated", detail: expect.any(String) }])

    // 2. Alice's public key, a signature that is not hers.
    const forged2 = forgeNext(published, "Forged again", "alice")
    const tip2 = await append({ ...forged2, signature: { key: aKey, sig: await attacker.signature(forged2) } }, tip1, "append")
    await expectRefused(b, "does not verify")
    // 3. Unsigned, although Alice is known to sign.
    const tip3 = await append(forgeNext(published, "Forged unsigned", "alice"), tip2, "append")
    await expectRefused(b, "is unsigned")
    expect(eventCount(b)).toBe(bBefore.events.length + 1)
    expect(quarantineRows(b).map((r) => [r.tip, r.code])).toEqual([tip1, tip2, tip3].map((t) => [t, "bundle_unauthenticated"]))

    // retry checks it again against the same pinned key: still refused.
    const held = (await b.ok("sync", "quarantine", "list")).refs.at(-1)
    expect(await b.ok("sync", "quarantine", "retry", held.id)).toMatchObject({ accepted: false, refusal: { code: "bundle_unauthenticated" }, imported: 0 })

    // Carol first sees Alice's ref after the forgery: its own first bundle names Alice's key, so the unsigned
    // (or re-signed) append is refused for her too, and nothing is pinned from a refused ref.
    await expectRefused(c, "is unsigned")
    expect((await c.ok("sync", "replica")).pinned).toEqual([])
    expect(eventCount(c)).toBe(1) // Dave's epic

    // Alice's own ref is what her push needs: refused until it is put right, then her next bundle imports everywhere.
    expect((await a.fails("sync", "push")).code).toBe("bundle_unauthenticated")
    git(work, "push", "-q", "--force", w.bare, `${tip0}:refs/grove/${ref}`)
    await a.ok("task", "update", task, "--title", "Index every document")
    expect((await a.ok("sync", "push")).pushed).toEqual([{ ref, from: 3, to: 3 }])
    expect(await b.ok("sync", "fetch")).toMatchObject({ imported: 1, refused: [], unsigned: [] })
    expect((await b.ok("sync", "quarantine", "list")).refs).toEqual([])
    expect(title(b, task)).toBe("Index every document")

    // A relay: Bob republishes Alice's stream on another remote with her signatures; Carol verifies and pins her key there.
    const mirror = w.newBare("mirror")
    for (const x of [b, c]) git(x.dir, "remote", "add", "mirror", mirror)
    await b.ok("sync", "push", "mirror")
    const relayed = treeOf(mirror, groveRefs(mirror)[ref]!).map((e) => JSON.parse(readBlob(mirror, e.blob).toString()) as Bundle)
    // One bundle up to Alice's newest signed position: her signature there covers the chain before it.
    expect(relayed.map((x) => [x.from, x.to, x.signature?.key])).toEqual([[1, 3, aKey]])
    expect(await c.ok("sync", "fetch", "mirror")).toMatchObject({ imported: 3, known: 1, refused: [] })
    expect((await c.ok("sync", "replica")).pinned).toEqual([{ replica: replicaOf(a), publicKey: aKey, remote: "mirror", pinnedAt: expect.any(String) }])
    expect(portableEvents(c)).toEqual(portableEvents(b))
    await expectSameChecksums(b, c)

    // Dave upgrades: his next bundle is signed on top of the unsigned one; Bob pins his key and, from now on, refuses him unsigned.
    await d.ok("epic", "create", "--title", "Dave's second")
    expect((await d.ok("sync", "push")).pushed).toEqual([{ ref: daveRef, from: 2, to: 2 }])
    expect(await b.ok("sync", "fetch")).toMatchObject({ imported: 1, refused: [], unsigned: [] })
    const daveKey = (await d.ok("sync", "replica")).publicKey as string
    expect((await b.ok("sync", "replica")).pinned.find((p: any) => p.replica === replicaOf(d))?.publicKey).toBe(daveKey)
  }, timeout)

  test.concurrent("sync replica --renew: a copied database gets its own replica id and key, pushes under them, and every clone sees two replicas' streams, nothing lost", async () => {
    const w = makeWorld(temp, ["alice", "xavier", "carol"])
    const [a, x] = two(w)
    const c = w.clones[2]!
    const { epic } = await seedTask(a)
    await a.ok("sync", "push")
    const original = replicaOf(a)
    const aKey = (await a.ok("sync", "replica")).publicKey as string

    // Alice's database copied into Xavier's clone (nothing running), then renewed there.
    NodeFs.mkdirSync(NodePath.dirname(x.db), { recursive: true })
    NodeFs.copyFileSync(a.db, x.db)
    expect(replicaOf(x)).toBe(original)
    const renewed = await x.ok("sync", "replica", "--renew")
    expect(renewed).toMatchObject({ previous: original, replica: replicaOf(x), streams: [{ branch: "main", events: 2 }] })
    expect(renewed.replica).not.toBe(original)
    // The copied key is the original's: it is pinned for the old id, and the copy has none until it pushes.
    expect(await x.ok("sync", "replica")).toEqual({
      replica: renewed.replica,
      publicKey: null,
      pinned: [{ replica: original, publicKey: aKey, remote: "", pinnedAt: expect.any(String) }]
    })

    await x.ok("task", "create", "--epic", epic, "--title", "Xavier's task")
    await a.ok("task", "create", "--epic", epic, "--title", "Alice's second")
    const xPushed = await x.ok("sync", "push")
    expect(xPushed.pushed).toEqual([{ ref: `${renewed.replica}/main`, from: 1, to: 1 }])
    const xKey = (await x.ok("sync", "replica")).publicKey as string
    expect(xKey).not.toBeNull()
    expect(xKey).not.toBe(aKey)
    // Alice's push fetches Xavier's new stream first.
    expect(await a.ok("sync", "push")).toMatchObject({ fetched: { imported: 1, refused: [] }, pushed: [{ ref: `${original}/main`, from: 3, to: 3 }] })
    expect(Object.keys(groveRefs(w.bare)).sort()).toEqual([`${original}/main`, `${renewed.replica}/main`].sort())

    // The original and a third clone see both streams, each pinned to its own key; nothing is lost or refused.
    expect(await x.ok("sync", "fetch")).toMatchObject({ imported: 1, refused: [] })
    expect(await c.ok("sync", "fetch")).toMatchObject({ imported: 4, refused: [], unsigned: [] })
    const pinned = (await c.ok("sync", "replica")).pinned.map((p: any) => [p.replica, p.publicKey]).sort()
    expect(pinned).toEqual([[original, aKey], [renewed.replica, xKey]].sort())
    const streamsOf = (k: Clone) => readDb(k, (db) => db.query("SELECT r.name AS replica, s.branch, count(*) AS n FROM events e JOIN streams s ON s.id = e.stream_id JOIN replicas r ON r.id = s.replica_id GROUP BY s.id ORDER BY r.name").all())
    const expected = [{ replica: original, branch: "main", n: 3 }, { replica: renewed.replica, branch: "main", n: 1 }].sort((p, q) => p.replica.localeCompare(q.replica))
    for (const k of [a, x, c]) expect(streamsOf(k)).toEqual(expected)
    expect(portableEvents(x)).toEqual(portableEvents(a))
    expect(portableEvents(c)).toEqual(portableEvents(a))
    await expectSameChecksums(a, c)
    await expectSameChecksums(x, c)
  }, timeout)

  test.concurrent("a force-pushed grove ref (not a descendant of what was imported) is refused with history_rewritten; nothing imported changes", async () => {
    const w = makeWorld(temp, ["alice", "bob"])
    const [a, b] = two(w)
    const epic = (await a.ok("epic", "create", "--title", "Search")).id as string
    await a.ok("sync", "push")
    const task = (await a.ok("task", "create", "--epic", epic, "--title", "Index documents")).id as string
    await a.ok("sync", "push")
    const ref = `${replicaOf(a)}/main`
    const work = workRepo(w)
    const tip2 = git(work, "rev-parse", `refs/grove/${ref}`)
    const tip1 = git(work, "rev-parse", `${tip2}^`)
    expect(treeOf(work, tip2).map((e) => e.name.slice(0, 25))).toEqual(["000000000001-000000000001", "000000000002-000000000002"])

    expect((await b.ok("sync", "fetch")).imported).toBe(2)
    const before = localState(b)
    const sums = await checksums(b)

    // 1. The ref rewound to its parent.
    git(work, "push", "-q", "--force", w.bare, `${tip1}:refs/grove/${ref}`)
    const e1 = await b.fails("sync", "fetch")
    expect(e1.code).toBe("history_rewritten")
    expect(e1.details.refused).toEqual([{ ref, code: "history_rewritten", detail: expect.stringContaining(tip2) }])
    expect(localState(b)).toEqual(before)

    // 2. A new root whose second bundle is well formed and hashes to its name, but holds another event at
    // position 2 (what another database using A's replica id would publish).
    const [first, second] = treeOf(work, tip2)
    const genuineId = readDb(b, (db) => (db.query("SELECT id FROM events WHERE entity_id = ?").get(task) as { id: string }).id)
    const secondText = readBlob(work, second!.blob).toString()
    expect(secondText).toContain(`"id":"${genuineId}"`)
    const forgedBytes = Buffer.from(
      secondText.replace(`"id":"${genuineId}"`, `"id":"${genuineId}x"`).replace("Index documents", "Something else")
    )
    const forged = commitTree(work, [first!, { name: bundleName(2, 2, forgedBytes), blob: writeBlob(work, forgedBytes) }], undefined, "forged")
    git(work, "push", "-q", "--force", w.bare, `${forged}:refs/grove/${ref}`)
    const e2 = await b.fails("sync", "fetch")
    expect(e2.code).toBe("history_rewritten")
    expect(localState(b)).toEqual(before)
    expect(title(b, task)).toBe("Index documents")
    expect(await checksums(b)).toEqual(sums)
    expect(quarantineRows(b).map((r) => [r.ref, r.tip, r.code])).toEqual([[ref, tip1, "history_rewritten"], [ref, forged, "history_rewritten"]])

    // 3. The same forgery on another remote, one B never verified a tip of: the positions B holds must match.
    const mirror = w.newBare("mirror")
    git(work, "push", "-q", mirror, `${forged}:refs/grove/${ref}`)
    git(b.dir, "remote", "add", "mirror", mirror)
    const e3 = await b.fails("sync", "fetch", "mirror")
    expect(e3.code).toBe("history_rewritten")
    expect(e3.details.refused).toEqual([{ ref, code: "history_rewritten", detail: expect.stringContaining("position 2") }])
    expect(localState(b)).toEqual(before)
    expect(quarantineRows(b).at(-1)).toMatchObject({ remote: "mirror", ref, tip: forged, code: "history_rewritten" })

    // 4. A forgery that keeps every id and position and changes only a payload, on a remote B never fetched
    // from: the events B holds are compared whole, not by id.
    const sameIdBytes = Buffer.from(secondText.replace("Index documents", "Forged title"))
    const sameId = commitTree(work, [first!, { name: bundleName(2, 2, sameIdBytes), blob: writeBlob(work, sameIdBytes) }], undefined, "same ids")
    const mirror2 = w.newBare("mirror2")
    git(work, "push", "-q", mirror2, `${sameId}:refs/grove/${ref}`)
    git(b.dir, "remote", "add", "mirror2", mirror2)
    const e4 = await b.fails("sync", "fetch", "mirror2")
    expect(e4.code).toBe("history_rewritten")
    expect(e4.details.refused).toEqual([{ ref, code: "history_rewritten", detail: expect.stringContaining("position 2") }])
    expect(localState(b)).toEqual(before)
    expect(title(b, task)).toBe("Index documents")
  }, timeout)

  test.concurrent("the remote: REMOTE if given, else the branch's upstream remote, else origin; remote_not_found otherwise", async () => {
    const w = makeWorld(temp, ["alice"])
    const a = w.clones[0]!
    const other = w.newBare("other")
    git(a.dir, "remote", "add", "other", other)
    await a.ok("epic", "create", "--title", "Search")
    const ref = `${replicaOf(a)}/main`

    // main's upstream is origin (a clone): the default.
    expect(git(a.dir, "config", "--get", "branch.main.remote")).toBe("origin")
    expect((await a.ok("sync", "fetch")).remote).toBe("origin")

    // The upstream remote wins over origin.
    git(a.dir, "config", "branch.main.remote", "other")
    const pushed = await a.ok("sync", "push")
    expect(pushed.remote).toBe("other")
    expect(Object.keys(groveRefs(other))).toEqual([ref])
    expect(groveRefs(w.bare)).toEqual({})

    // REMOTE named explicitly.
    expect(await a.ok("sync", "push", "origin")).toMatchObject({ remote: "origin", pushed: [{ ref, from: 1, to: 1 }] })
    expect(Object.keys(groveRefs(w.bare))).toEqual([ref])

    // No upstream (a new branch, a local upstream, a detached HEAD): origin.
    git(a.dir, "checkout", "-q", "-b", "topic")
    expect((await a.ok("sync", "fetch")).remote).toBe("origin")
    git(a.dir, "config", "branch.topic.remote", ".")
    expect((await a.ok("sync", "fetch")).remote).toBe("origin")
    git(a.dir, "checkout", "-q", "--detach")
    expect((await a.ok("sync", "fetch")).remote).toBe("origin")
    git(a.dir, "checkout", "-q", "main")

    // An upstream remote that is not configured, and an unknown REMOTE.
    git(a.dir, "config", "branch.main.remote", "gone")
    const gone = await a.fails("sync", "fetch")
    expect(gone).toMatchObject({ code: "remote_not_found", details: { remote: "gone" } })
    for (const command of ["fetch", "push"]) {
      const r = await a.run("sync", command, "nosuch")
      expect(r.exitCode).toBe(1)
      expect(r.json.error).toMatchObject({ code: "remote_not_found", details: { remote: "nosuch" } })
      expect(r.json.error.message).toContain("nosuch")
    }

    // A repository with no origin and no upstream.
    const lone = NodePath.join(w.base, "lone")
    NodeFs.mkdirSync(lone)
    git(lone, "init", "-q", "-b", "main")
    git(lone, "commit", "-q", "--allow-empty", "-m", "initial")
    const l = makeClone(lone, "lone")
    await l.ok("epic", "create", "--title", "Alone")
    for (const command of ["fetch", "push"]) {
      const e = await l.fails("sync", command)
      expect(e).toMatchObject({ code: "remote_not_found", details: { remote: "origin" } })
      expect(e.message).toContain("no upstream")
    }
    expect(groveRefs(lone)).toEqual({})
  }, timeout)

  test.concurrent("a push rejected because someone else moved the ref first is retried after a fetch, never forced", async () => {
    const w = makeWorld(temp, ["alice", "carol"])
    const [a, c] = two(w)
    const relay = w.newBare("relay")
    git(a.dir, "remote", "add", "relay", relay)
    git(c.dir, "remote", "add", "relay", relay)
    const { task } = await seedTask(a)
    await a.ok("sync", "push") // origin: A's positions 1-2
    const ref = `${replicaOf(a)}/main`
    const x = groveRefs(w.bare)[ref]!

    // A's position 3 reaches Carol through another remote; A then writes position 4.
    await a.ok("task", "update", task, "--title", "third")
    await a.ok("sync", "push", "relay")
    expect((await c.ok("sync", "fetch", "relay")).imported).toBe(3)
    await a.ok("task", "update", task, "--title", "fourth")

    // While A's next push is in the remote's pre-receive hook, Carol relays A's position 3 to origin:
    // A's push then finds the ref moved (a genuine lost race), fetches and pushes again.
    const armed = NodePath.join(w.base, "armed")
    const relayed = NodePath.join(w.base, "relayed")
    const relayOut = NodePath.join(w.base, "relay.json")
    const hook = NodePath.join(w.bare, "hooks", "pre-receive")
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`
    const hookLog = NodePath.join(w.base, "hook.log")
    NodeFs.writeFileSync(
      hook,
      [
        "#!/bin/sh",
        "cat > /dev/null",
        `echo run >> ${q(hookLog)}`,
        `if [ -e ${q(armed)} ]; then`,
        `  rm -f ${q(armed)}`,
        `  cd ${q(c.dir)} && env -i PATH="$PATH" HOME="$HOME" GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 GROVE_ACTOR=carol ${
          q(process.execPath)
        } ${q(groveEntry)} sync push origin --json > ${q(relayOut)} 2>&1`,
        `  env -i PATH="$PATH" git --git-dir=${q(w.bare)} rev-parse ${q(`refs/grove/${ref}`)} > ${q(relayed)}`,
        "fi",
        "exit 0",
        ""
      ].join("\n")
    )
    NodeFs.chmodSync(hook, 0o755)
    NodeFs.writeFileSync(armed, "")
    git(w.bare, "config", "receive.denyNonFastForwards", "true") // a forced update could not succeed

    const pushed = await a.ok("sync", "push")
    const relayReport = JSON.parse(NodeFs.readFileSync(relayOut, "utf8"))
    expect(relayReport).toMatchObject({ ok: true, data: { remote: "origin", attempts: 1, pushed: [{ ref, from: 3, to: 3 }] } })
    expect(NodeFs.existsSync(armed)).toBe(false)
    const z = NodeFs.readFileSync(relayed, "utf8").trim()
    expect(z).not.toBe(x)

    expect(pushed.attempts).toBeGreaterThan(1)
    expect(pushed.attempts).toBe(2)
    // The hook ran for A's first attempt, Carol's relay and A's second attempt.
    expect(NodeFs.readFileSync(hookLog, "utf8")).toBe("run\nrun\nrun\n")
    expect(pushed.pushed).toEqual([{ ref, from: 4, to: 4 }]) // only what Carol's commit lacked
    const tip = groveRefs(w.bare)[ref]!
    // Never forced: the ref's history keeps A's first commit and Carol's, and A's commit sits on Carol's.
    expect(isAncestor(w.bare, x, z)).toBe(true)
    expect(isAncestor(w.bare, z, tip)).toBe(true)
    expect(git(w.bare, "rev-parse", `${tip}^`)).toBe(z)
    expect(git(w.bare, "rev-list", "--count", tip)).toBe("3")
    expect(treeOf(w.bare, tip).map((e) => e.name.slice(0, 25))).toEqual([
      "000000000001-000000000002",
      "000000000003-000000000003",
      "000000000004-000000000004"
    ])

    // The result imports cleanly elsewhere.
    expect(await c.ok("sync", "fetch")).toMatchObject({ imported: 1, refused: [] })
    expect(title(c, task)).toBe("fourth")
    expect(portableEvents(c)).toEqual(portableEvents(a))
    await expectSameChecksums(a, c)

    // A remote that rejects every attempt: push_rejected after 5 tries (each after a fetch), the ref untouched.
    NodeFs.writeFileSync(hook, "#!/bin/sh\ncat > /dev/null\necho declined >&2\nexit 1\n")
    await a.ok("task", "update", task, "--title", "fifth")
    const rejected = await a.fails("sync", "push")
    expect(rejected).toMatchObject({ code: "push_rejected", details: { remote: "origin", attempts: 5, rejected: [{ ref, accepted: false }] } })
    expect(rejected.details.rejected[0].reason).toContain("pre-receive hook declined")
    expect(groveRefs(w.bare)[ref]).toBe(tip)
  }, timeout)

  test.concurrent("a grove ref whose latest commit holds no bundles is refused (bundle_corrupt), not imported as an empty stream", async () => {
    const w = makeWorld(temp, ["alice", "bob"])
    const [a, b] = two(w)
    await seedTask(a)
    await a.ok("sync", "push")
    const work = workRepo(w)
    const ref = `${replicaOf(a)}/main`
    const tip = git(work, "rev-parse", `refs/grove/${ref}`)
    // A fast-forward whose tree is empty, and a new ref that never held anything.
    const empty = commitTree(work, [], tip, "empty")
    git(work, "push", "-q", w.bare, `${empty}:refs/grove/${ref}`, `${commitTree(work, [], undefined, "nothing")}:refs/grove/00000000000000ff/main`)
    const e = await b.fails("sync", "fetch")
    expect(e.code).toBe("bundle_corrupt")
    expect(e.details.refused.map((r: any) => [r.ref, r.detail]).sort()).toEqual([
      ["00000000000000ff/main", expect.stringContaining("holds no bundles")],
      [ref, expect.stringContaining("holds no bundles")]
    ].sort())
    expect(eventCount(b)).toBe(0)
  }, timeout)

  test.concurrent("a quarantined ref of another clone never blocks a push: it is reported, left alone, and sync quarantine list|show|retry|drop manage it", async () => {
    const w = makeWorld(temp, ["alice", "bob"])
    const [a, b] = two(w)
    const { epic } = await seedTask(a)
    await a.ok("sync", "push")
    expect((await b.ok("sync", "fetch")).imported).toBe(2)
    const aliceRef = `${replicaOf(a)}/main`
    const bobRef = `${replicaOf(b)}/main`

    // Someone with push access rewrites Alice's ref: a new root whose bundle keeps its hash-name but changes a title.
    const work = workRepo(w)
    const genuine = git(work, "rev-parse", `refs/grove/${aliceRef}`)
    const [bundle] = treeOf(work, genuine)
    const text = readBlob(work, bundle!.blob).toString()
    const forgedBytes = Buffer.from(text.replace("Index documents", "Forged"))
    const forged = commitTree(work, [{ name: bundleName(1, 2, forgedBytes), blob: writeBlob(work, forgedBytes) }], undefined, "forged")
    git(work, "push", "-q", "--force", w.bare, `${forged}:refs/grove/${aliceRef}`)

    // Bob's push goes on: his own ref is published, Alice's is reported as held and not touched.
    await b.ok("task", "create", "--epic", epic, "--title", "Bob's task")
    const eventsBefore = eventCount(b)
    const pushed = await b.ok("sync", "push")
    expect(pushed.pushed).toEqual([{ ref: bobRef, from: 1, to: 1 }])
    expect(pushed.held).toEqual([{ ref: aliceRef, code: "history_rewritten", detail: expect.stringContaining(forged) }])
    expect(groveRefs(w.bare)[aliceRef]).toBe(forged)
    expect(eventCount(b)).toBe(eventsBefore)
    // A second push still goes through (nothing new to send), and still reports the held ref.
    expect(await b.ok("sync", "push")).toMatchObject({ pushed: [], held: [{ ref: aliceRef, code: "history_rewritten" }] })

    // list / show: the ref, why, and at which tip.
    const listed = await b.ok("sync", "quarantine", "list")
    expect(listed.events).toEqual([])
    expect(listed.refs).toEqual([expect.objectContaining({ remote: "origin", ref: aliceRef, tip: forged, code: "history_rewritten", droppedAt: null })])
    const id = listed.refs[0].id as string
    expect(id).toMatch(/^r\d+$/)
    expect(await b.ok("sync", "quarantine", "show", id)).toEqual({ kind: "ref", ref: listed.refs[0] })
    expect((await b.fails("sync", "quarantine", "show", "r999")).code).toBe("not_found")
    expect((await b.run("sync", "quarantine", "drop", "e1")).json.error.code).toBe("invalid_input")
    expect((await b.run("sync", "quarantine", "retry", "x")).json.error.code).toBe("invalid_input")

    // retry while the remote still holds the forgery: refused again, quarantined anew.
    const retried = await b.ok("sync", "quarantine", "retry", id)
    expect(retried).toMatchObject({ accepted: false, refusal: { code: "history_rewritten" }, imported: 0 })
    const again = (await b.ok("sync", "quarantine", "list")).refs
    expect(again).toEqual([expect.objectContaining({ ref: aliceRef, tip: forged })])

    // drop: fetch ignores the ref at this tip, and so succeeds.
    const dropped = await b.ok("sync", "quarantine", "drop", again[0].id)
    expect(dropped.droppedAt).not.toBeNull()
    expect(await b.ok("sync", "fetch")).toMatchObject({ refused: [], dropped: [aliceRef] })
    expect(await b.ok("sync", "push")).toMatchObject({ pushed: [], held: [] })
    expect(groveRefs(w.bare)[aliceRef]).toBe(forged)

    // Alice's own ref is what her push needs: she is refused until it is put right.
    expect((await a.fails("sync", "push")).code).toBe("history_rewritten")
    git(work, "push", "-q", "--force", w.bare, `${genuine}:refs/grove/${aliceRef}`)
    await a.ok("task", "create", "--epic", epic, "--title", "Alice's second")
    expect((await a.ok("sync", "push")).pushed).toEqual([{ ref: aliceRef, from: 3, to: 3 }])

    // The ref moved on from the dropped tip to one that extends what Bob verified: imported, quarantine cleared.
    expect(await b.ok("sync", "fetch")).toMatchObject({ imported: 1, refused: [], dropped: [] })
    expect((await b.ok("sync", "quarantine", "list")).refs).toEqual([])
    expect(title(b, task0(b, "Index documents"))).toBe("Index documents")
    await expectSameChecksums(a, b)
  }, timeout)
})
