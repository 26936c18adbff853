/**
 * The agent's loop, scenario by scenario, on a real repository with real
 * linked worktrees: claims and leases, next, notes across branches.
 * CLI processes where the exit status and envelope are the point; the
 * in-process helpers where timing matters (leases of a second or two).
 */
import { describe, expect, it } from "bun:test"
import { Effect } from "effect"
import * as NodeFs from "node:fs"
import { Claims } from "../src/tracker/Claims.ts"
import { Next } from "../src/tracker/Next.ts"
import { addNote } from "../src/tracker/Notes.ts"
import { Tracker } from "../src/tracker/Tracker.ts"
import { Work } from "../src/projections/Work.ts"
import { countRows, failureIn, fileRepo, grove, inWorktree, lastSeq, withDb } from "./support/index.ts"

const repo = fileRepo()
const root = repo.root
const wtA = repo.addWorktree("a")
const wtB = repo.addWorktree("b")

const cli = (cwd: string, ...args: Array<string>) => grove(cwd, [...args, "--json"])
const epic = (title: string) => inWorktree(root, Effect.flatMap(Tracker, (t) => t.create("epic", undefined, { title })))
const task = (epicId: string, title: string) => inWorktree(root, Effect.flatMap(Tracker, (t) => t.create("task", epicId, { title })))
const dependsOn = (source: string, target: string) => inWorktree(root, Effect.flatMap(Tracker, (t) => t.addDependency(source, target)))
const claims = <A, E>(cwd: string, f: (c: typeof Claims.Service) => Effect.Effect<A, E>) => inWorktree(cwd, Effect.flatMap(Claims, f))
const leaseOf = (id: string) => inWorktree(root, Effect.flatMap(Work, (w) => w.lease(id)))

/** Asserts a refusal wrote nothing: no event, no transaction row. */
const unchanged = async <A>(f: () => Promise<A>) => {
  const seq = lastSeq(repo.db)
  const tx = countRows(repo.db, "transactions")
  const out = await f()
  expect({ events: lastSeq(repo.db), transactions: countRows(repo.db, "transactions") }).toEqual({ events: seq, transactions: tx })
  return out
}

describe("claims", () => {
  it("a lost claim exits 1 with claim_lost and the owner, from another worktree; nothing is written", async () => {
    const e = await epic("claims")
    const t = await task(e.id, "contested")
    const won = cli(wtA, "task", "claim", t.id, "--owner", "alice")
    expect(won.exitCode).toBe(0)
    expect(won.json.data).toMatchObject({ claimed: true, changed: true, entity: { owner: "alice", status: "in_progress" } })
    const lost = await unchanged(async () => cli(wtB, "task", "claim", t.id, "--owner", "bob"))
    expect(lost.exitCode).toBe(1)
    expect(lost.json.error).toMatchObject({ code: "claim_lost", details: { id: t.id, owner: "alice", leaseExpiresAt: null } })
    // The owner claiming again is a success that writes nothing.
    const again = await unchanged(async () => cli(wtA, "task", "claim", t.id, "--owner", "alice"))
    expect(again.json.data).toMatchObject({ claimed: true, changed: false })
  }, 60_000)

  it("release: refused to others with not_owner, allowed to the owner and with --force; back to todo with no owner", async () => {
    const e = await epic("release")
    const t = await task(e.id, "t")
    await claims(root, (c) => c.claim("task", t.id, { owner: "alice" }))
    const refused = await unchanged(async () => cli(wtB, "task", "release", t.id, "--owner", "bob"))
    expect(refused.exitCode).toBe(1)
    expect(refused.json.error).toMatchObject({ code: "not_owner", details: { owner: "alice", actor: "bob" } })
    const forced = cli(wtB, "task", "release", t.id, "--owner", "bob", "--force")
    expect(forced.json.data).toMatchObject({ changed: true, previousOwner: "alice", entity: { status: "todo", owner: null } })
    await claims(root, (c) => c.claim("task", t.id, { owner: "bob" }))
    const own = await claims(root, (c) => c.release("task", t.id, { owner: "bob" }))
    expect(own).toMatchObject({ changed: true, previousOwner: "bob", entity: { status: "todo", owner: null } })
    const idle = await unchanged(() => claims(root, (c) => c.release("task", t.id, { owner: "bob" })))
    expect(idle.changed).toBe(false)
  }, 60_000)

  it("a lease: refused while it runs, renewed by the owner's note and heartbeat, taken over once expired, naming whose it was", async () => {
    const e = await epic("leases")
    const t = await task(e.id, "long work")
    const first = await claims(wtA, (c) => c.claim("task", t.id, { owner: "alice", lease: 6000 }))
    expect(first.lease).toMatchObject({ owner: "alice", leaseMs: 6000 })
    const during = await failureIn(wtB, Effect.flatMap(Claims, (c) => c.claim("task", t.id, { owner: "bob" })))
    expect(during).toMatchObject({ code: "claim_lost", details: { owner: "alice" } })
    expect(during.details["leaseExpiresAt"]).toBe(new Date(first.lease!.expiresAt).toISOString())

    await Bun.sleep(50)
    await inWorktree(wtA, addNote("task", t.id, "halfway", { owner: "alice" }))
    const renewedByNote = (await leaseOf(t.id))!
    expect(renewedByNote.expiresAt).toBeGreaterThan(first.lease!.expiresAt)
    // A note by someone else does not renew it.
    await inWorktree(wtB, addNote("task", t.id, "looking", { owner: "bob" }))
    expect((await leaseOf(t.id))!.expiresAt).toBe(renewedByNote.expiresAt)
    await Bun.sleep(50)
    const beat = await claims(wtA, (c) => c.heartbeat("task", t.id, { owner: "alice" }))
    expect(beat.lease!.expiresAt).toBeGreaterThan(renewedByNote.expiresAt)
    const notYours = await failureIn(wtB, Effect.flatMap(Claims, (c) => c.heartbeat("task", t.id, { owner: "bob" })))
    expect(notYours).toMatchObject({ code: "not_owner", details: { owner: "alice" } })

    await Bun.sleep(Math.max(0, beat.lease!.expiresAt - Date.now()) + 20)
    const taken = await claims(wtB, (c) => c.claim("task", t.id, { owner: "bob" }))
    expect(taken).toMatchObject({ changed: true, entity: { owner: "bob", status: "in_progress" }, previous: { owner: "alice", expiredAt: beat.lease!.expiresAt } })
    expect(await leaseOf(t.id)).toBeNull()
    // The former owner's heartbeat now fails: the claim is no longer theirs.
    expect((await failureIn(wtA, Effect.flatMap(Claims, (c) => c.heartbeat("task", t.id, { owner: "alice" })))).code).toBe("not_owner")
  }, 60_000)

  it("task update by the claim's owner renews its lease (a subtask's renews its task's too); by anyone else it does not; one that leaves in_progress or sets the owner ends it", async () => {
    const e = await epic("lease by update")
    const t = await task(e.id, "updated while claimed")
    const s = await inWorktree(root, Effect.flatMap(Tracker, (tr) => tr.create("subtask", t.id, { title: "part" })))
    // The in-process actor is the repository's user.email, as for a CLI command in it.
    const me = "dev@example.com"
    const first = await claims(wtA, (c) => c.claim("task", t.id, { owner: me, lease: 60_000 }))
    const sub = await claims(wtA, (c) => c.claim("subtask", s.id, { owner: me, lease: 60_000 }))
    const taskLease = (await leaseOf(t.id))!
    expect(taskLease.expiresAt).toBeGreaterThan(first.lease!.expiresAt - 1)

    await Bun.sleep(20)
    await inWorktree(wtA, Effect.flatMap(Tracker, (tr) => tr.update("task", t.id, { description: "halfway" })))
    const byUpdate = (await leaseOf(t.id))!
    expect(byUpdate).toMatchObject({ owner: me, leaseMs: 60_000 })
    expect(byUpdate.expiresAt).toBeGreaterThan(taskLease.expiresAt)

    await Bun.sleep(20)
    await inWorktree(wtA, Effect.flatMap(Tracker, (tr) => tr.update("subtask", s.id, { title: "part, renamed" })))
    expect((await leaseOf(s.id))!.expiresAt).toBeGreaterThan(sub.lease!.expiresAt)
    expect((await leaseOf(t.id))!.expiresAt).toBeGreaterThan(byUpdate.expiresAt)

    // Someone else's update renews nothing (in a worktree of its own: the session test counts wtB's actors).
    const before = (await leaseOf(t.id))!.expiresAt
    expect(grove(repo.addWorktree("lease-peek"), ["task", "update", t.id, "--description", "peeked", "--json"], { env: { GROVE_ACTOR: "bob" } }).exitCode).toBe(0)
    expect((await leaseOf(t.id))!.expiresAt).toBe(before)

    // Blocked ends the claim's lease; so does handing the subtask to someone else.
    await inWorktree(wtA, Effect.flatMap(Tracker, (tr) => tr.update("task", t.id, { status: "blocked" })))
    expect(await leaseOf(t.id)).toBeNull()
    await inWorktree(wtA, Effect.flatMap(Tracker, (tr) => tr.update("subtask", s.id, { owner: "carol" })))
    expect(await leaseOf(s.id)).toBeNull()
  }, 60_000)

  it("--lease through the CLI: a bad duration is invalid_input (exit 2) and writes nothing; heartbeat without a lease asks for one", async () => {
    const e = await epic("lease flags")
    const t = await task(e.id, "t")
    const bad = await unchanged(async () => cli(wtA, "task", "claim", t.id, "--owner", "a", "--lease", "soon"))
    expect(bad.exitCode).toBe(2)
    expect(bad.json.error).toMatchObject({ code: "invalid_input", details: { flag: "lease" } })
    const ok = cli(wtA, "task", "claim", t.id, "--owner", "a", "--lease", "30m")
    expect(ok.json.data.lease).toMatchObject({ owner: "a", leaseMs: 1_800_000 })
    await claims(root, (c) => c.release("task", t.id, { owner: "a" }))
    expect(await leaseOf(t.id)).toBeNull()
    await claims(root, (c) => c.claim("task", t.id, { owner: "a" }))
    const none = await unchanged(async () => cli(wtA, "task", "heartbeat", t.id, "--owner", "a"))
    expect(none.json.error).toMatchObject({ code: "invalid_input", details: { flag: "lease" } })
  }, 60_000)

  it("done: only the owner may finish a claimed task (not_owner, or --force); it returns what it unblocked and the next candidate", async () => {
    const e = await epic("done")
    const base = await task(e.id, "base")
    const left = await task(e.id, "left")
    const right = await task(e.id, "right")
    const top = await task(e.id, "top")
    await dependsOn(left.id, base.id)
    await dependsOn(right.id, base.id)
    await dependsOn(top.id, left.id)
    await claims(root, (c) => c.claim("task", base.id, { owner: "alice" }))
    const refused = await unchanged(async () => cli(wtB, "task", "done", base.id, "--owner", "bob"))
    expect(refused.exitCode).toBe(1)
    expect(refused.json.error).toMatchObject({ code: "not_owner", details: { owner: "alice" } })
    const done = cli(wtA, "task", "done", base.id, "--owner", "alice")
    expect(done.exitCode).toBe(0)
    expect(done.json.data.unblocked).toEqual([{ kind: "task", id: left.id }, { kind: "task", id: right.id }])
    // left unblocks top as well: it ranks first.
    expect(done.json.data.next).toMatchObject({ id: left.id, unblocks: 1 })
    await claims(root, (c) => c.claim("task", right.id, { owner: "carol" }))
    const forced = cli(wtB, "task", "done", right.id, "--owner", "bob", "--force")
    expect(forced.json.data).toMatchObject({ changed: true, entity: { status: "done" }, unblocked: [] })
  }, 60_000)

  it("subtask claim, note and done by the owner; another owner loses the subtask claim", async () => {
    const e = await epic("subtasks")
    const t = await task(e.id, "parent")
    const s = await inWorktree(root, Effect.flatMap(Tracker, (tr) => tr.create("subtask", t.id, { title: "step" })))
    const won = cli(wtA, "subtask", "claim", s.id, "--owner", "alice")
    expect(won.json.data).toMatchObject({ claimed: true, entity: { kind: "subtask", owner: "alice", status: "in_progress" } })
    const lost = cli(wtB, "subtask", "claim", s.id, "--owner", "bob")
    expect(lost.json.error).toMatchObject({ code: "claim_lost", details: { kind: "subtask", owner: "alice" } })
    expect(cli(wtA, "subtask", "note", s.id, "tests pass", "--owner", "alice").json.data).toMatchObject({ text: "tests pass", author: "alice", branch: "a" })
    expect(cli(wtB, "subtask", "done", s.id, "--owner", "bob").json.error.code).toBe("not_owner")
    expect(cli(wtA, "subtask", "done", s.id, "--owner", "alice").json.data).toMatchObject({ changed: true, entity: { status: "done" } })
  }, 60_000)
})

describe("next", () => {
  it("ranks by work unblocked, then age; --claim hands two agents in two worktrees different tasks; then waiting, then finished", async () => {
    const e = await epic("next")
    const lone = await task(e.id, "lone (oldest)")
    const root1 = await task(e.id, "unblocks two")
    const mid = await task(e.id, "unblocks one")
    const leaf = await task(e.id, "leaf")
    await dependsOn(mid.id, root1.id)
    await dependsOn(leaf.id, mid.id)
    const peek = cli(wtA, "next", "--epic", e.id, "--owner", "a1")
    expect(peek.json.data).toMatchObject({ task: { id: root1.id, status: "todo" }, claimed: false, unblocks: 2, epic: { id: e.id } })
    expect(peek.json.data.dependedOnBy).toEqual([{ kind: "task", id: mid.id, title: "unblocks one", status: "todo" }])

    const first = cli(wtA, "next", "--epic", e.id, "--owner", "a1", "--claim")
    const second = cli(wtB, "next", "--epic", e.id, "--owner", "b1", "--claim")
    expect(first.json.data).toMatchObject({ task: { id: root1.id, owner: "a1", status: "in_progress" }, claimed: true, resumed: false })
    expect(second.json.data).toMatchObject({ task: { id: lone.id, owner: "b1", status: "in_progress" }, claimed: true })
    // An agent with a task in progress is sent back to it.
    expect(cli(wtA, "next", "--epic", e.id, "--owner", "a1", "--claim").json.data).toMatchObject({ task: { id: root1.id }, resumed: true })
    // A third agent: nothing ready while the others work.
    const third = cli(wtB, "next", "--epic", e.id, "--owner", "c1", "--claim")
    expect(third.exitCode).toBe(0)
    expect(third.json.data).toMatchObject({ task: null, state: "waiting", open: 4, inProgress: 2 })

    for (const [id, owner] of [[root1.id, "a1"], [lone.id, "b1"], [mid.id, "a1"], [leaf.id, "a1"]] as const) {
      if (id === mid.id || id === leaf.id) await claims(root, (c) => c.claim("task", id, { owner }))
      await claims(root, (c) => c.finish("task", id, { owner }))
    }
    expect(cli(wtA, "next", "--epic", e.id, "--owner", "a1", "--claim").json.data).toMatchObject({ task: null, state: "finished", open: 0 })
  }, 90_000)

  it("an expired lease makes an in-progress task a candidate again, and next --claim takes it over", async () => {
    const e = await epic("next lease")
    const t = await task(e.id, "abandoned")
    await claims(root, (c) => c.claim("task", t.id, { owner: "gone", lease: 300 }))
    await Bun.sleep(400)
    const r = await inWorktree(wtB, Effect.flatMap(Next, (n) => n.next({ epic: e.id, owner: "fresh", claim: true })))
    expect(r).toMatchObject({ task: { id: t.id, owner: "fresh" }, claimed: true, previousOwner: "gone" })
  }, 30_000)
})

describe("notes", () => {
  it("notes written concurrently on two branches merge on pull with no conflict; show lists both in order with provenance", async () => {
    const e = await epic("notes")
    const t = await task(e.id, "shared")
    // Both branches learn the task first, so what follows is concurrent work on a task both know.
    expect(cli(wtA, "sync", "pull", "--from", "main").exitCode).toBe(0)
    expect(cli(wtB, "sync", "pull", "--from", "main").exitCode).toBe(0)
    const n1 = cli(wtA, "task", "note", t.id, "tried the cache: no gain", "--owner", "alice")
    const n2 = cli(wtB, "task", "note", t.id, "profiling says the parser", "--owner", "bob")
    const n3 = cli(wtA, "task", "note", t.id, "second thought from a", "--owner", "alice")
    for (const n of [n1, n2, n3]) expect(n.exitCode).toBe(0)
    const pulled = cli(wtA, "sync", "pull", "--from", "b")
    expect(pulled.exitCode).toBe(0)
    // (Earlier scenarios wrote on both branches: only this task matters here.)
    expect(cli(wtA, "sync", "conflicts", "list").json.data.filter((c: any) => c.entity.id === t.id)).toEqual([])
    const shown = cli(wtA, "task", "show", t.id).json.data
    expect(shown.notes.map((n: any) => [n.text, n.author, n.branch, n.worktree])).toEqual([
      ["tried the cache: no gain", "alice", "a", wtA],
      ["profiling says the parser", "bob", "b", wtB],
      ["second thought from a", "alice", "a", wtA]
    ])
    for (const n of shown.notes) {
      expect(n.actor).toBe("dev@example.com")
      expect(Date.parse(n.time)).toBeGreaterThan(0)
    }
    // A note does not change the task's version: --if-version writers are not disturbed by it.
    expect(shown.version).toBe(t.version)
    const empty = await unchanged(async () => cli(wtA, "task", "note", t.id, "   "))
    expect(empty.exitCode).toBe(2)
    expect(empty.json.error.code).toBe("invalid_input")
    expect(cli(root, "verify").json.data.identical).toBe(true)
  }, 90_000)
})

describe("plan apply", () => {
  const plan = {
    plan: "search-v1",
    epic: { key: "search", title: "Search", description: "full-text search" },
    tasks: [
      { key: "schema", title: "Schema" },
      { key: "index", title: "Index documents", dependsOn: ["schema"], subtasks: [{ key: "tokenize", title: "Tokenizer" }] },
      { key: "query", title: "Query parser", dependsOn: ["index", "tokenize"] }
    ]
  }
  const write = (name: string, content: string) => {
    const path = `${repo.base}/${name}`
    NodeFs.writeFileSync(path, content)
    return path
  }

  it("creates epic, tasks, subtasks and edges by key in one transaction; the same plan again changes nothing; an edited plan adds only what is new", async () => {
    const file = write("plan.json", JSON.stringify(plan))
    const seq = lastSeq(repo.db)
    const first = cli(wtA, "plan", "apply", file)
    expect(first.exitCode).toBe(0)
    expect(first.json.data).toMatchObject({ plan: "search-v1", changed: true, created: { epics: 1, tasks: 3, subtasks: 1, dependencies: 3 } })
    const keys = first.json.data.keys
    // One transaction: every event of the apply shares one transaction row.
    const written = withTx(seq)
    expect(new Set(written.map((e) => e.tx))).toEqual(new Set([written[0]!.tx]))
    expect(cli(wtA, "task", "show", keys.query).json.data.dependsOn.map((d: any) => d.target.id).sort()).toEqual([keys.index, keys.tokenize].sort())

    const again = await unchanged(async () => cli(wtB, "plan", "apply", file))
    expect(again.json.data).toMatchObject({ changed: false, created: { epics: 0, tasks: 0, subtasks: 0, dependencies: 0 }, keys })

    // Edited, as JSON lines: one new task depending on an old one, one new edge between old ones.
    const lines = [
      { type: "plan", plan: "search-v1" },
      { type: "epic", key: "search", title: "Search" },
      { type: "task", key: "schema", title: "Schema" },
      { type: "task", key: "index", title: "Index documents", dependsOn: ["schema"] },
      { type: "subtask", task: "index", key: "tokenize", title: "Tokenizer" },
      { type: "task", key: "query", title: "Query parser", dependsOn: ["index", "tokenize"] },
      { type: "task", key: "rank", title: "Ranking", dependsOn: ["query"] },
      { type: "dependency", source: "tokenize", target: "schema" }
    ]
    const edited = cli(wtA, "plan", "apply", write("plan.jsonl", lines.map((l) => JSON.stringify(l)).join("\n")))
    expect(edited.json.data).toMatchObject({ changed: true, created: { epics: 0, tasks: 1, subtasks: 0, dependencies: 2 } })
    expect(edited.json.data.keys).toMatchObject(keys)
    const progress = cli(wtA, "epic", "progress", keys.search).json.data
    expect(progress).toMatchObject({ total: 4, todo: 4, ready: 1, waiting: 3, next: { id: keys.schema } })
    const rank = edited.json.data.keys.rank
    const tree = cli(wtA, "dep", "tree", rank).json.data.nodes.map((n: any) => [n.id, n.distance])
    expect(tree).toEqual([[keys.query, 1], [keys.index, 2], [keys.tokenize, 2], [keys.schema, 3]].sort((a, b) => (a[1] as number) - (b[1] as number) || (a[0]! < b[0]! ? -1 : 1)))
    const reverse = cli(wtA, "dep", "tree", keys.schema, "--reverse", "--depth", "1").json.data.nodes.map((n: any) => n.id).sort()
    expect(reverse).toEqual([keys.index, keys.tokenize].sort())
  }, 90_000)

  it("a bad plan (unknown key, duplicate key, cycle, bad JSON line) is plan_invalid and writes nothing", async () => {
    const bad = [
      JSON.stringify({ epic: { key: "e", title: "E" }, tasks: [{ key: "a", title: "A", dependsOn: ["nope"] }] }),
      JSON.stringify({ epic: { key: "e", title: "E" }, tasks: [{ key: "a", title: "A" }, { key: "a", title: "again" }] }),
      JSON.stringify({ epic: { key: "e", title: "E" }, tasks: [{ key: "a", title: "A", dependsOn: ["b"] }, { key: "b", title: "B", dependsOn: ["a"] }] }),
      `{"type":"epic","key":"e","title":"E"}\n{"type":"task","key":"a"`
    ]
    for (const [i, content] of bad.entries()) {
      const r = await unchanged(async () => cli(wtA, "plan", "apply", write(`bad${i}.json`, content)))
      expect({ i, exit: r.exitCode, code: r.json.error.code }).toEqual({ i, exit: 1, code: "plan_invalid" })
    }
  }, 60_000)

  it("a plan key grove does not know (depends_on for dependsOn) is refused and named, not dropped with the edges it meant", async () => {
    const misspelt = [
      { file: "typo.json", content: JSON.stringify({ epic: { key: "e", title: "E" }, tasks: [{ key: "a", title: "A" }, { key: "b", title: "B", depends_on: ["a"] }] }), path: "document", names: "tasks.1.depends_on" },
      { file: "typo.jsonl", content: `{"type":"epic","key":"e","title":"E"}\n{"type":"task","key":"a","title":"A","subtask":[]}`, path: "line 2", names: "subtask" }
    ]
    for (const m of misspelt) {
      const r = await unchanged(async () => cli(wtA, "plan", "apply", write(m.file, m.content)))
      expect({ file: m.file, exit: r.exitCode, code: r.json.error.code, path: r.json.error.details.path }).toEqual({ file: m.file, exit: 1, code: "plan_invalid", path: m.path })
      expect(r.json.error.message).toContain(`${m.names}: is unexpected`)
    }
  }, 60_000)
})

describe("search and session", () => {
  it("task list --search matches titles, descriptions and notes (word prefixes, FTS5 operators taken literally); epics and subtasks too", async () => {
    const e = await epic("Searchable ranking epic")
    const t1 = await inWorktree(root, Effect.flatMap(Tracker, (t) => t.create("task", e.id, { title: "Tokenizer", description: "split on unicode boundaries" })))
    const t2 = await task(e.id, "Unrelated")
    await inWorktree(root, addNote("task", t2.id, "the tokenizer fails on emoji", { owner: "alice" }))
    const hits = cli(wtA, "task", "list", "--search", "tokeniz").json.data
    expect(hits.map((h: any) => [h.id, h.matched])).toContainEqual([t1.id, ["title"]])
    expect(hits.map((h: any) => [h.id, h.matched])).toContainEqual([t2.id, ["note"]])
    expect(cli(wtA, "task", "list", "--search", "unicode bound").json.data.map((h: any) => h.id)).toEqual([t1.id])
    expect(cli(wtA, "task", "list", "--search", 'emoji" OR "x').json.data).toEqual([])
    expect(cli(wtA, "epic", "list", "--search", "searchable").json.data.map((h: any) => h.id)).toEqual([e.id])
    const s = await inWorktree(root, Effect.flatMap(Tracker, (t) => t.create("subtask", t1.id, { title: "Grapheme clusters" })))
    expect(cli(wtA, "subtask", "list", "--search", "graph").json.data.map((h: any) => h.id)).toEqual([s.id])
    // Renamed: the index follows the projection, and rebuild and verify cover it.
    await inWorktree(root, Effect.flatMap(Tracker, (t) => t.update("task", t1.id, { title: "Lexer" })))
    expect(cli(wtA, "task", "list", "--search", "lexer").json.data.map((h: any) => h.id)).toEqual([t1.id])
    expect(cli(root, "rebuild").exitCode).toBe(0)
    expect(cli(wtA, "task", "list", "--search", "lexer").json.data.map((h: any) => h.id)).toEqual([t1.id])
    const verify = cli(root, "verify").json.data
    expect(verify.identical).toBe(true)
    expect(verify.tables.map((t: any) => t.table)).toEqual(expect.arrayContaining(["notes", "leases", "plan_keys", "search_rows", "search"]))
  }, 90_000)

  it("session shows this worktree, my claims, counts, sync state, and the other worktrees' branches, actors, claims and activity", async () => {
    const e = await epic("session")
    const t = await task(e.id, "watched")
    expect(cli(wtB, "task", "claim", t.id, "--owner", "bob", "--lease", "10m").exitCode).toBe(0)
    const s = grove(wtA, ["session", "--owner", "sally", "--json"], { env: { GROVE_ACTOR: "agent-a" } }).json.data
    expect(s).toMatchObject({ worktree: wtA, branch: "a", actor: "agent-a", owner: "sally", myClaims: [] })
    expect(s.tasks.inProgress).toBeGreaterThan(0)
    expect(s.sync).toMatchObject({ source: "main" })
    expect(typeof s.sync.pendingConflicts).toBe("number")
    const b = s.others.find((w: any) => w.worktree === wtB)
    expect(b).toMatchObject({ branch: "b", actors: ["dev@example.com"] })
    expect(b.claims).toContainEqual(expect.objectContaining({ id: t.id, owner: "bob" }))
    expect(Date.parse(b.lastActivity)).toBeGreaterThan(0)
    expect(s.others.map((w: any) => w.worktree)).toContain(root)
    const mine = cli(wtB, "session", "--owner", "bob").json.data
    expect(mine.myClaims).toContainEqual(expect.objectContaining({ id: t.id, leaseExpiresAt: expect.any(String) }))
  }, 60_000)
})

/** Events after `seq` with their transaction id. */
const withTx = (seq: number) =>
  withDb(repo.db, (db) => db.query("SELECT seq, tx_id AS tx FROM events WHERE seq > ? ORDER BY seq").all(seq) as Array<{ seq: number; tx: number }>)
