/**
 * The log's integrity (docs/security.md): a hash chain per stream checked by
 * verify and rebuild, and the append-only triggers. Every attack is done for
 * real on the database file with bun:sqlite, as a user with sqlite3 would.
 */
import { afterAll, describe, expect, it } from "bun:test"
import { Effect } from "effect"
import { eventDigest, sealChains } from "../src/events/chain.ts"
import { Tracker } from "../src/tracker/Tracker.ts"
import { dbPathOf, grove, inWorktree, isolateEnv, makeRepo, neutralEnv, type TestRepo, withDb } from "./support/index.ts"

let repo: TestRepo
isolateEnv()
afterAll(() => repo?.cleanup())

const fresh = async () => {
  repo?.cleanup()
  repo = makeRepo()
  const feat = repo.addWorktree("feat")
  const epic = await inWorktree(repo.root, Effect.flatMap(Tracker, (t) => t.create("epic", undefined, { title: "Search" })))
  const task = await inWorktree(repo.root, Effect.flatMap(Tracker, (t) => t.create("task", epic.id, { title: "Index documents" })))
  await inWorktree(repo.root, Effect.flatMap(Tracker, (t) => t.update("task", task.id, { description: "all of them" })))
  await inWorktree(feat, Effect.flatMap(Tracker, (t) => t.create("task", epic.id, { title: "On feat" })))
  return { epic, task }
}

const cli = (...args: Array<string>) => grove(repo.root, [...args, "--json"], { env: neutralEnv })

/** Everything the attacker could hope to change: the log and the live tables. */
const state = () =>
  withDb(dbPathOf(repo.root), (db) => ({
    events: db.query("SELECT * FROM events ORDER BY seq").all(),
    tasks: db.query("SELECT * FROM tasks ORDER BY id").all()
  }))

const eventOf = (entity: string, op: string) =>
  withDb(dbPathOf(repo.root), (db) => db.query("SELECT seq, id, payload, digest FROM events WHERE entity_id = ? AND op = ?").get(entity, op) as {
    seq: number
    id: string
    payload: string
    digest: string
  })

describe("hash chain and append-only triggers", () => {
  it("every event has a digest and a healthy log verifies: chains intact, triggers in place", async () => {
    await fresh()
    const digests = withDb(dbPathOf(repo.root), (db) => db.query("SELECT digest FROM events").all() as Array<{ digest: string | null }>)
    expect(digests.length).toBe(4)
    expect(digests.every((d) => /^[0-9a-f]{64}$/.test(d.digest ?? ""))).toBe(true)
    const v = cli("verify")
    expect(v.exitCode).toBe(0)
    expect(v.json.data.log).toEqual({ intact: true, chains: { streams: 2, events: 4, broken: [] }, damagedTriggers: [] })
  }, 60_000)

  it("a payload edited after dropping the trigger: verify reports log_tampered naming the event; rebuild refuses and changes nothing, so the forgery is never laundered", async () => {
    const { task } = await fresh()
    const created = eventOf(task.id, "task.created")
    withDb(dbPathOf(repo.root), (db) => {
      db.run("DROP TRIGGER events_no_update")
      db.run("UPDATE events SET payload = replace(payload, 'Index documents', 'Forged') WHERE seq = ?", [created.seq])
    })
    const before = state()

    const v = cli("verify")
    expect(v.exitCode).toBe(1)
    expect(v.json.error.code).toBe("log_tampered")
    expect(v.json.error.details.log.chains.broken).toEqual([{ stream: "main", seq: created.seq, id: created.id, pos: 2, reason: "digest_mismatch" }])
    expect(v.json.error.details.log.damagedTriggers).toEqual(["events_no_update"])
    expect(v.json.error.message).toContain(created.id)

    const r = cli("rebuild")
    expect(r.exitCode).toBe(1)
    expect(r.json.error.code).toBe("log_tampered")
    expect(r.json.error.details.broken[0]).toMatchObject({ id: created.id, seq: created.seq })
    expect(state()).toEqual(before)
    // The live state still shows what was really written.
    expect(cli("task", "show", task.id).json.data.title).toBe("Index documents")
  }, 60_000)

  it("a forger who also recomputes the edited event's digest breaks the next link; a deleted event leaves a position gap", async () => {
    const { task } = await fresh()
    const created = eventOf(task.id, "task.created")
    const updated = eventOf(task.id, "task.updated")
    withDb(dbPathOf(repo.root), (db) => {
      const r = db.query(
        `SELECT e.*, s.branch, rp.name AS replica, t.worktree, t.head, t.actor, t.committed_at,
                (SELECT digest FROM events p WHERE p.stream_id = e.stream_id AND p.pos = e.pos - 1) AS prev
         FROM events e JOIN streams s ON s.id = e.stream_id JOIN replicas rp ON rp.id = s.replica_id JOIN transactions t ON t.id = e.tx_id
         WHERE e.seq = ?`
      ).get(created.seq) as any
      const payload = r.payload.replace("Index documents", "Forged")
      const digest = eventDigest(r.prev, {
        id: r.id, replica: r.replica, branch: r.branch, pos: r.pos, clock: r.clock, entityKind: r.entity_kind, entityId: r.entity_id, op: r.op,
        payload, payloadVersion: r.payload_version, causeId: r.cause_id, ifVersion: r.if_version === 1, worktree: r.worktree, head: r.head,
        actor: r.actor, at: r.committed_at
      })
      db.run("DROP TRIGGER events_no_update")
      db.run("UPDATE events SET payload = ?, digest = ? WHERE seq = ?", [payload, digest, created.seq])
    })
    expect(cli("verify").json.error.details.log.chains.broken).toEqual([
      { stream: "main", seq: updated.seq, id: updated.id, pos: 3, reason: "digest_mismatch" }
    ])

    const again = await fresh()
    const second = eventOf(again.task.id, "task.created")
    withDb(dbPathOf(repo.root), (db) => {
      db.run("DROP TRIGGER events_no_delete")
      db.run("DELETE FROM events WHERE seq = ?", [second.seq])
    })
    const gap = cli("verify").json.error.details.log
    expect(gap.chains.broken).toEqual([expect.objectContaining({ stream: "main", pos: 3, reason: "position_gap" })])
    expect(gap.damagedTriggers).toEqual(["events_no_delete"])
  }, 60_000)

  it("a dropped trigger alone (chains intact) is reported by verify as log_tampered", async () => {
    await fresh()
    withDb(dbPathOf(repo.root), (db) => db.run("DROP TRIGGER events_no_update"))
    const v = cli("verify")
    expect(v.exitCode).toBe(1)
    expect(v.json.error.code).toBe("log_tampered")
    expect(v.json.error.details.log).toMatchObject({ intact: false, damagedTriggers: ["events_no_update"], chains: { broken: [] } })
    // A rebuild of an intact chain is allowed: the triggers guard writes, the chain guards content.
    expect(cli("rebuild").exitCode).toBe(0)
  }, 60_000)

  it("migration 5 seals a log written before the chain: the digests it computes are the ones appends compute, and the triggers come back", async () => {
    await fresh()
    const original = withDb(dbPathOf(repo.root), (db) => db.query("SELECT seq, digest FROM events ORDER BY seq").all())
    withDb(dbPathOf(repo.root), (db) => {
      db.run("DROP TRIGGER events_no_update")
      db.run("UPDATE events SET digest = NULL")
      db.transaction(() => expect(sealChains(db)).toBe(original.length))()
    })
    expect(withDb(dbPathOf(repo.root), (db) => db.query("SELECT seq, digest FROM events ORDER BY seq").all())).toEqual(original)
    expect(cli("verify").exitCode).toBe(0)
  }, 60_000)
})
