/**
 * Reads at scale (issue 15): every task and subtask carries the number of its
 * dependencies that are not done (`unfinished_deps`) and of the edges into it
 * (`dependents`, migration 10), kept by triggers on every write and counted
 * once after a rebuild. `task ready` and
 * `next` read it instead of each todo task's edges. These tests check the
 * count against its definition after every kind of change, in one database
 * and across clones, and check that `task ready` and `next` answer exactly as
 * the queries that checked every edge did.
 */
import type { Database } from "bun:sqlite"
import { describe, expect, test } from "bun:test"
import { Effect } from "effect"
import type { NodeKind, Status } from "../src/events/Event.ts"
import { Migrator } from "../src/migrations/Migrator.ts"
import { Queries } from "../src/projections/Queries.ts"
import { Replay } from "../src/projections/Replay.ts"
import { projectionTables } from "../src/projections/tables.ts"
import { Work } from "../src/projections/Work.ts"
import { Sync } from "../src/sync/Sync.ts"
import { Tracker } from "../src/tracker/Tracker.ts"
import { type Clone, inWorktree, makeWorld, scratch, seededRandom, sharedTasks, type TrackerServices, withDb } from "./support/index.ts"

const temp = scratch("each")

/** The status of node (kind, id), whichever table it lives in: null when it is not live. */
const statusOf = (kind: string, id: string) => `coalesce(
  (SELECT status FROM tasks WHERE ${kind} = 'task' AND id = ${id}),
  (SELECT status FROM subtasks WHERE ${kind} = 'subtask' AND id = ${id}))`

/**
 * Tasks and subtasks whose kept counts differ from their definitions: `unfinished_deps`, the edges out of the
 * node whose target is not done (or not live); `dependents`, the edges into it.
 */
const wrongCounts = (db: Database) =>
  db.query(
    `SELECT * FROM (
       SELECT kind, id, unfinished, dependents,
              (SELECT count(*) FROM dependencies d WHERE d.source_kind = n.kind AND d.source_id = n.id
                 AND ${statusOf("d.target_kind", "d.target_id")} IS NOT 'done') AS countedUnfinished,
              (SELECT count(*) FROM dependencies d WHERE d.target_kind = n.kind AND d.target_id = n.id) AS countedDependents
       FROM (SELECT 'task' AS kind, id, unfinished_deps AS unfinished, dependents FROM tasks
             UNION ALL SELECT 'subtask', id, unfinished_deps, dependents FROM subtasks) n)
     WHERE unfinished <> countedUnfinished OR dependents <> countedDependents`
  ).all()

const offCycles = "AND t.id NOT IN (SELECT task_id FROM invariant_cycle_tasks)"

/** The ready tasks as `task ready` found them before the count: every todo task's edges checked (benchmarks/reads.ts's naive query). */
const naiveReady = (db: Database) =>
  (db.query(
    `SELECT id FROM tasks t WHERE status = 'todo' AND NOT EXISTS (SELECT 1 FROM dependencies d WHERE d.source_kind = 'task' AND d.source_id = t.id
       AND ${statusOf("d.target_kind", "d.target_id")} IS NOT 'done') ${offCycles} ORDER BY created_clock, id`
  ).all() as Array<{ id: string }>).map((r) => r.id)

/** `next`'s ranking as it was before the count: candidates by every edge, dependents by one recursive walk each. */
const naiveCandidates = (db: Database, who: string, now: number) =>
  (db.query(
    `WITH RECURSIVE cand AS (
       SELECT t.id FROM tasks t LEFT JOIN leases l ON l.entity_id = t.id
       WHERE ((t.status = 'todo' AND (t.owner IS NULL OR t.owner = ?1)) OR (t.status = 'in_progress' AND t.owner IS NOT ?1 AND l.expires_at <= ?2))
         AND NOT EXISTS (SELECT 1 FROM dependencies d WHERE d.source_kind = 'task' AND d.source_id = t.id
                           AND ${statusOf("d.target_kind", "d.target_id")} IS NOT 'done') ${offCycles}),
     down(root, kind, id) AS (
       SELECT c.id, d.source_kind, d.source_id FROM cand c JOIN dependencies d ON d.target_kind = 'task' AND d.target_id = c.id
       UNION SELECT down.root, d.source_kind, d.source_id FROM down JOIN dependencies d ON d.target_kind = down.kind AND d.target_id = down.id)
     SELECT t.id, (SELECT count(*) FROM down WHERE down.root = t.id) AS unblocks
     FROM cand c JOIN tasks t ON t.id = c.id ORDER BY unblocks DESC, t.created_clock, t.id`
  ).all(who, now) as Array<{ id: string; unblocks: number }>)

/** What grove answers now, through its own services, in the worktree at `cwd`. */
const answers = (cwd: string, who: string, now: number) =>
  inWorktree(
    cwd,
    Effect.gen(function*() {
      const ready = (yield* (yield* Queries).readyTasks(undefined)).map((t) => t.id)
      const page = yield* (yield* Queries).ready(undefined, { limit: 3, after: undefined })
      const candidates = (yield* (yield* Work).candidates({ who, now, limit: 100_000 })).map((c) => ({ id: c.id, unblocks: c.unblocks }))
      return { ready, page: { ids: page.rows.map((t) => t.id), total: page.total }, candidates }
    })
  )

/**
 * The count matches its definition in `db`, and `task ready` (list, page and
 * total) and `next`'s ranking in `cwd` equal the naive queries' answers.
 */
const expectConsistent = async (scene: string, cwd: string, db: string, who = "agent") => {
  const now = Date.now()
  const got = await answers(cwd, who, now)
  const expected = withDb(db, (d) => ({ wrong: wrongCounts(d), ready: naiveReady(d), candidates: naiveCandidates(d, who, now) }), { readonly: true })
  expect({ scene, wrongCounts: expected.wrong }).toEqual({ scene, wrongCounts: [] })
  expect({ scene, ready: got.ready }).toEqual({ scene, ready: expected.ready })
  expect({ scene, page: got.page }).toEqual({ scene, page: { ids: expected.ready.slice(0, 3), total: expected.ready.length } })
  expect({ scene, candidates: got.candidates }).toEqual({ scene, candidates: expected.candidates })
}

const kept = (db: string, kind: NodeKind, id: string) =>
  withDb(db, (d) => (d.query(`SELECT unfinished_deps AS n FROM ${kind === "task" ? "tasks" : "subtasks"} WHERE id = ?`).get(id) as { n: number }).n, { readonly: true })

/** Every projection row, table by table, in key order. */
const projection = (db: string) =>
  withDb(db, (d) => Object.fromEntries(projectionTables.map((t) => [t.name, d.query(`SELECT * FROM ${t.name} ORDER BY ${t.key}`).all()])), { readonly: true })

const verifyTables = (cwd: string) =>
  inWorktree(cwd, Effect.map(Effect.flatMap(Replay, (r) => r.verify), (v) => v.tables.filter((t) => !t.identical).map((t) => t.table)))

describe("unfinished dependency counts", () => {
  test("stay right across edges added and removed, targets done, reopened and deleted, subtasks on either end, a pull, rebuild and the migration", async () => {
    const repo = temp.repo()
    const feat = repo.addWorktree("feat")
    const ids = await inWorktree(
      repo.root,
      Effect.gen(function*() {
        const t = yield* Tracker
        const epic = (yield* t.create("epic", undefined, { title: "counts" })).id
        const task = (title: string) => Effect.map(t.create("task", epic, { title }), (x) => x.id)
        const [a, b, c, d] = [yield* task("A"), yield* task("B"), yield* task("C"), yield* task("D")]
        const s1 = (yield* t.create("subtask", b, { title: "S1" })).id
        const s2 = (yield* t.create("subtask", c, { title: "S2" })).id
        return { epic, a, b, c, d, s1, s2 }
      })
    )
    const { a, b, c, d, s1, s2 } = ids
    const step = async (scene: string, effect: Effect.Effect<unknown, unknown, TrackerServices>, cwd = repo.root) => {
      await inWorktree(cwd, effect)
      await expectConsistent(scene, repo.root, repo.db)
    }
    const tracker = <A>(f: (t: typeof Tracker.Service) => Effect.Effect<A, unknown, TrackerServices>) => Effect.flatMap(Tracker, f)
    await expectConsistent("created", repo.root, repo.db)

    // A chain D -> C -> B, A -> B and A -> S1 (a task on a subtask), S2 -> A (a subtask on a task).
    await step("edges added", tracker((t) => Effect.all([t.addDependency(d, c), t.addDependency(c, b), t.addDependency(a, b), t.addDependency(a, s1), t.addDependency(s2, a)])))
    expect([kept(repo.db, "task", a), kept(repo.db, "task", c), kept(repo.db, "subtask", s2)]).toEqual([2, 1, 1])

    const finish = (kind: NodeKind, id: string) => tracker((t) => Effect.zipRight(t.update(kind, id, { status: "in_progress" }), t.done(kind, id)))
    await step("a subtask target done", finish("subtask", s1))
    await step("a task target done", finish("task", b))
    expect([kept(repo.db, "task", a), kept(repo.db, "task", c)]).toEqual([0, 0])
    await step("reopened", tracker((t) => t.update("task", b, { status: "in_progress" })))
    expect(kept(repo.db, "task", a)).toBe(1)
    await step("done again", tracker((t) => t.done("task", b)))
    await step("an edge removed", tracker((t) => t.removeDependency(d, c)))
    await step("an edge to a done target added", tracker((t) => t.addDependency(d, b)))

    // The other worktree's branch writes; the main checkout pulls it.
    await step("written on feat", tracker((t) => Effect.all([t.addDependency(d, c), t.update("task", c, { status: "in_progress" })])), feat)
    await inWorktree(repo.root, Effect.flatMap(Sync, (s) => s.pull("feat")))
    await expectConsistent("pulled from feat", repo.root, repo.db)
    await step("a done target deleted", tracker((t) => t.remove("task", b)))
    await step("a subtask source deleted", tracker((t) => t.remove("subtask", s2)))

    expect(await verifyTables(repo.root)).toEqual([])
    const before = projection(repo.db)
    await inWorktree(repo.root, Effect.flatMap(Replay, (r) => r.rebuild()))
    expect(projection(repo.db)).toEqual(before)
    await expectConsistent("rebuilt", repo.root, repo.db)

    // An existing database: below migration 10 the column is gone; bringing the schema up to date counts it.
    await inWorktree(repo.root, Effect.flatMap(Migrator, (m) => m.down(9)))
    expect(withDb(repo.db, (x) => x.query("SELECT name FROM pragma_table_info('tasks') WHERE name = 'unfinished_deps'").all(), { readonly: true })).toEqual([])
    await inWorktree(repo.root, Effect.flatMap(Migrator, (m) => m.ensureCurrent))
    expect(projection(repo.db)).toEqual(before)
    await expectConsistent("migrated", repo.root, repo.db)
  }, 120_000)

  test("seeded random graphs: the counts, task ready and next equal the queries that check every edge", async () => {
    const repo = temp.repo()
    const statuses: ReadonlyArray<Status> = ["todo", "in_progress", "done", "blocked"]
    for (const seed of [15_001, 15_002, 15_003]) {
      const rng = seededRandom(seed)
      await inWorktree(
        repo.root,
        Effect.gen(function*() {
          const t = yield* Tracker
          const queries = yield* Queries
          const epic = (yield* t.create("epic", undefined, { title: `graph ${seed}` })).id
          for (let i = 0; i < 25; i++) yield* t.create("task", epic, { title: `task ${i}`, owner: rng.next() < 0.2 ? "other" : null })
          const tasks = yield* queries.tasks({ epic })
          for (let i = 0; i < 10; i++) yield* t.create("subtask", rng.pick(tasks)!.id, { title: `subtask ${i}` })
          const nodes = [...tasks, ...(yield* queries.subtasks(undefined)).filter((s) => tasks.some((x) => x.id === s.taskId))]
          // Refusals (cycles, done sources, the status machine) are part of the walk: only what grove accepts happens.
          for (let i = 0; i < 120; i++) {
            const [x, y] = [rng.pick(nodes)!, rng.pick(nodes)!]
            const roll = rng.int(100)
            const command: Effect.Effect<unknown, unknown> = roll < 45
              ? t.addDependency(x.id, y.id)
              : roll < 55
              ? t.removeDependency(x.id, y.id)
              : roll < 90
              ? t.update(x.kind, x.id, { status: rng.pick(statuses)! })
              : roll < 95
              ? t.done(x.kind, x.id)
              : t.remove(x.kind, x.id)
            yield* Effect.either(command)
          }
        })
      )
      await expectConsistent(`seed ${seed}`, repo.root, repo.db)
      await expectConsistent(`seed ${seed}, as the other owner`, repo.root, repo.db, "other")
    }
    // The walks made something worth comparing: many edges, finished work, and chains (a candidate unblocking several).
    const shape = withDb(repo.db, (x) => ({
      edges: (x.query("SELECT count(*) AS n FROM dependencies").get() as { n: number }).n,
      done: (x.query("SELECT count(*) AS n FROM tasks WHERE status = 'done'").get() as { n: number }).n,
      unblocks: Math.max(...naiveCandidates(x, "agent", Date.now()).map((c) => c.unblocks)),
      // Candidates whose dependents reach further than the edges into them.
      deeper: naiveCandidates(x, "agent", Date.now()).filter((c) =>
        c.unblocks > (x.query("SELECT count(*) AS n FROM dependencies WHERE target_id = ?").get(c.id) as { n: number }).n
      ).length
    }), { readonly: true })
    expect(shape.edges).toBeGreaterThan(30)
    expect(shape.done).toBeGreaterThan(0)
    expect(shape.unblocks).toBeGreaterThan(2)
    expect(shape.deeper).toBeGreaterThan(0)
    expect(await verifyTables(repo.root)).toEqual([])
  }, 120_000)

  test("across clones: fetched edges and status changes (imported out of clock order) keep the counts; a task on a cycle is never ready", async () => {
    const [alice, bob] = makeWorld(temp, ["alice", "bob"]).clones as [Clone, Clone]
    const [a, b, c, d] = (await sharedTasks(alice, bob, ["A", "B", "C", "D"])).tasks as [string, string, string, string]
    // bob: C depends on D, B on A. alice, concurrently: D and B done, then A depends on B (A alone would be ready).
    await bob.ok("dep", "add", c, d)
    await bob.ok("dep", "add", b, a)
    for (const done of [d, b]) {
      await alice.ok("task", "update", done, "--status", "in_progress")
      await alice.ok("task", "done", done)
    }
    await alice.ok("dep", "add", a, b)
    await alice.ok("sync", "push")
    await bob.ok("sync", "push")
    await alice.ok("sync", "fetch")
    for (const clone of [alice, bob]) {
      await expectConsistent(`${clone.name} after the exchange`, clone.dir, clone.db)
      expect([kept(clone.db, "task", a), kept(clone.db, "task", c)]).toEqual([0, 0])
      // A waits on nothing unfinished, but it is on a recorded cycle with B (docs/sync.md): never ready.
      const ready = ((await clone.ok("task", "ready")) as Array<{ id: string }>).map((t) => t.id)
      expect(ready).toEqual([c])
      expect((await clone.ok("next")).task.id).toBe(c)
      expect(await verifyTables(clone.dir)).toEqual([])
    }
  }, 400_000)
})
