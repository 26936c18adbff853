/**
 * A stream's own writes learn the short way (src/causality/Learner.ts `learn`,
 * Heads.ts `splitOwn`) only where nothing but the written fields' heads can
 * change: an entity with a pending conflict record, or an --if-version write,
 * is learnt in full. Real repositories with real linked worktrees sharing one
 * SQLite file; services in-process, one call per grove command.
 */
import { describe, expect, test } from "bun:test"
import { Effect } from "effect"
import { makeCatchUp } from "../src/causality/CatchUp.ts"
import { makeConflictStore } from "../src/causality/ConflictStore.ts"
import { makeHeadsStore } from "../src/causality/HeadsStore.ts"
import { makeKnowledge } from "../src/causality/Knowledge.ts"
import { makeLearner } from "../src/causality/Learner.ts"
import { makeLearntEvents } from "../src/causality/LearntEvents.ts"
import { makeRelearn } from "../src/causality/Relearn.ts"
import { Conflicts } from "../src/sync/Conflicts.ts"
import { Tracker } from "../src/tracker/Tracker.ts"
import {
  createEntity as create,
  inWorktree as go,
  isolateEnv,
  pullInto as pull,
  scratch,
  taskVersion as versionOf,
  updateTask as update,
  withDb
} from "./support/index.ts"

isolateEnv()
const newRepo = scratch("all").repo


const rows = (path: string, sql: string, ...params: Array<string | number>): Array<any> => withDb(path, (db) => db.query(sql).all(...params))
/** The newest event of an entity, with its stream's name and its transaction's time. */
const newestEvent = (path: string, entity: string): { seq: number; stream: string; committedAt: number } =>
  rows(
    path,
    `SELECT e.seq, s.name AS stream, t.committed_at AS committedAt FROM events e JOIN streams s ON s.id = e.stream_id
     JOIN transactions t ON t.id = e.tx_id WHERE e.entity_id = ? ORDER BY e.seq DESC LIMIT 1`,
    entity
  )[0]
/** A stream's heads of an entity, field -> event seqs. */
const headsOf = (path: string, stream: string, entity: string) =>
  Object.fromEntries(
    rows(
      path,
      `SELECT h.field, group_concat(h.event_seq) AS seqs FROM heads h JOIN streams s ON s.id = h.stream_id
       WHERE s.name = ? AND h.entity_id = ? GROUP BY h.field ORDER BY h.field`,
      stream,
      entity
    ).map((r) => [r.field, String(r.seqs).split(",").map(Number).sort((a, b) => a - b)])
  )

/** main with an epic and one task, and a linked worktree on branch feat. */
const setup = async () => {
  const repo = newRepo()
  const feat = repo.addWorktree("feat")
  const { epic, task } = await go(repo.root, Effect.gen(function*() {
    const epic = yield* create("epic", undefined, "E")
    return { epic, task: yield* create("task", epic, "t0") }
  }))
  await pull(feat, "main")
  return { repo, main: repo.root, feat, db: repo.db, epic, task }
}

describe("own writes that must be learnt in full", () => {
  test("an own write to an entity with a pending record keeps it pending while the conflict stands, and settles it at its seq and time", async () => {
    const { main, feat, db, task } = await setup()
    await go(main, update(task, { title: "m" }))
    await go(feat, update(task, { title: "f" }))
    expect(await pull(main, "feat")).toMatchObject({ conflictsCreated: 1 })

    // Another field of the entity: the title is still in conflict, so the record stays pending.
    await go(main, update(task, { owner: "alice" }))
    const pending = rows(db, "SELECT field, status, settled_seq, settled_at FROM conflicts")
    expect(pending).toEqual([{ field: "title", status: "pending", settled_seq: null, settled_at: null }])

    await go(main, update(task, { title: "both" }))
    const settling = newestEvent(db, task)
    expect(settling.stream).toBe("main")
    const settled = rows(db, "SELECT field, status, settled_seq, settled_at FROM conflicts")
    expect(settled).toEqual([{ field: "title", status: "settled", settled_seq: settling.seq, settled_at: settling.committedAt }])
    expect(headsOf(db, "main", task)["title"]).toEqual([settling.seq])
  })

  test("an own --if-version write raises its field's floor; a plain own write leaves the floor as it was", async () => {
    const { main, db, task } = await setup()
    await go(main, Effect.flatMap(versionOf(task), (v) => update(task, { title: "guarded" }, v)))
    const guarded = newestEvent(db, task)
    const floors = () => rows(db, "SELECT entity_id, field, seq, frontier_id FROM if_version_floors")
    expect(floors()).toEqual([{ entity_id: task, field: "title", seq: guarded.seq, frontier_id: null }])
    expect(headsOf(db, "main", task)["title"]).toEqual([guarded.seq])

    await go(main, update(task, { title: "plain" }))
    const plain = newestEvent(db, task)
    expect(floors()).toEqual([{ entity_id: task, field: "title", seq: guarded.seq, frontier_id: null }])
    expect(headsOf(db, "main", task)["title"]).toEqual([plain.seq])
  })
})

describe("the own shortcut learns what learning in full learns", () => {
  test("on a mixed history (pulls with conflicts, settling and unsettling own writes, --if-version, a cascaded delete, dependencies, a resolve) every sync table equals a relearn without the shortcut", async () => {
    const { main, feat, db, epic, task } = await setup()
    const other = await go(main, Effect.gen(function*() {
      const other = yield* create("task", epic, "o0")
      yield* create("subtask", other, "s0")
      yield* Effect.flatMap(Tracker, (t) => t.addDependency(other, task))
      return other
    }))
    await pull(feat, "main")
    // Concurrent writes on both entities, a guarded one among them.
    await go(main, Effect.gen(function*() {
      yield* update(task, { title: "m1", owner: "m" })
      yield* update(other, { description: "m-d" }, yield* versionOf(other))
    }))
    await go(feat, Effect.gen(function*() {
      yield* update(task, { title: "f1" })
      yield* update(other, { description: "f-d", owner: "f" })
    }))
    await pull(main, "feat")
    await pull(feat, "main")
    // main settles one record by writing; feat writes other fields of entities with pending records, then deletes one.
    await go(main, update(task, { title: "m2" }))
    await go(feat, update(task, { owner: "f" }))
    // (The live projection is shared: main's write to the task feat deletes comes first, unknown to feat.)
    await go(main, update(other, { title: "m-o" }))
    await go(feat, Effect.flatMap(Tracker, (t) => t.remove("task", other)))
    await pull(main, "feat")
    const pendingInMain = await go(main, Effect.flatMap(Conflicts, (c) => c.list({ all: false })))
    if (pendingInMain.length > 0) await go(main, Effect.flatMap(Conflicts, (c) => c.resolve({ id: pendingInMain[0]!.id }, "ours", false)))
    await go(main, update(task, { owner: "m3" }))
    await pull(feat, "main")
    // A conflict left standing, and an own write beside it that does not settle it.
    await go(main, update(task, { description: "m-x" }))
    await go(feat, update(task, { description: "f-x" }))
    await pull(main, "feat")
    await go(main, update(task, { owner: "m4" }))

    const counts = rows(
      db,
      `SELECT (SELECT count(*) FROM conflicts WHERE status = 'settled') AS settled, (SELECT count(*) FROM conflicts WHERE status = 'pending') AS pending,
              (SELECT count(*) FROM if_version_floors) AS floors, (SELECT count(*) FROM heads) AS heads`
    )[0]
    // The history exercises both paths: records settled and still pending, a floor, heads.
    expect(counts.settled).toBeGreaterThan(0)
    expect(counts.pending).toBeGreaterThan(0)
    expect(counts.floors).toBeGreaterThan(0)
    expect(counts.heads).toBeGreaterThan(0)

    // The live tables were learnt by writes and pulls with the shortcut; each relearn is rolled back (fresh caches each).
    const differing = (inFull: boolean) =>
      withDb(db, (raw) => {
        const knowledge = makeKnowledge(raw)
        const events = makeLearntEvents(raw, knowledge)
        const conflicts = makeConflictStore(raw)
        const learner = makeLearner(knowledge, events, makeHeadsStore(raw, knowledge), conflicts)
        const relearnWith = inFull ? { ...learner, learn: learner.learnInFull } : learner
        const relearn = makeRelearn(raw, knowledge, events, relearnWith, makeCatchUp(raw, knowledge, events, learner), conflicts)
        return relearn.verify().filter((c) => !c.identical).map((c) => c.table)
      })
    expect({ inFull: differing(true), withShortcut: differing(false) }).toEqual({ inFull: [], withShortcut: [] })
  })
})
