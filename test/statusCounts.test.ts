/**
 * Paging totals at scale (issue 15): `status_counts` holds how many epics,
 * tasks and subtasks are live in each status (migration 12), kept by
 * triggers on every write and counted once after a rebuild. A list filtered
 * by status alone, or not at all, reads its total there instead of counting
 * a status index. These tests check the table against its definition after
 * every kind of change, and every list total against a count of the rows.
 */
import type { Database } from "bun:sqlite"
import { describe, expect, test } from "bun:test"
import { Effect } from "effect"
import type { Status } from "../src/events/Event.ts"
import { Migrator } from "../src/migrations/Migrator.ts"
import { type Entity, Queries } from "../src/projections/Queries.ts"
import { Replay } from "../src/projections/Replay.ts"
import { tableOf } from "../src/projections/tables.ts"
import { Sync } from "../src/sync/Sync.ts"
import { Tracker } from "../src/tracker/Tracker.ts"
import { inWorktree, scratch, seededRandom, withDb } from "./support/index.ts"

const temp = scratch("each")
const statuses: ReadonlyArray<Status> = ["todo", "in_progress", "done", "blocked"]
const kinds: ReadonlyArray<Entity["kind"]> = ["epic", "task", "subtask"]

/** The kept rows, and the same counted from the tables: equal when the triggers kept up. */
const countsBoth = (db: Database) => ({
  kept: db.query("SELECT kind, status, n FROM status_counts ORDER BY kind, status").all(),
  counted: db.query(
    `SELECT kind, status, count(*) AS n FROM (${Object.entries(tableOf).map(([k, t]) => `SELECT '${k}' AS kind, status FROM ${t}`).join(" UNION ALL ")})
     GROUP BY kind, status ORDER BY kind, status`
  ).all()
})

/** Every status filter a list takes: none, each status alone, and a few sets of several. */
const filters: ReadonlyArray<ReadonlyArray<Status> | undefined> = [
  undefined,
  ...statuses.map((s) => [s]),
  ["todo", "in_progress", "blocked"],
  ["done", "todo"]
]

/** Each list's total as grove answers it, and the rows it counts, by kind and filter. */
const totals = async (cwd: string, db: string) => [
  await inWorktree(
      cwd,
      Effect.gen(function*() {
        const queries = yield* Queries
        const out: Array<string> = []
        for (const kind of kinds) {
          for (const f of filters) {
            const page = yield* queries.list(kind, { statuses: f }, { limit: 2, after: undefined })
            out.push(`${kind} ${f?.join("|") ?? "all"}: ${page.total}`)
          }
        }
        return out
      })
    ),
    withDb(db, (d) =>
      kinds.flatMap((kind) =>
        filters.map((f) => {
          const where = f === undefined ? "" : `WHERE status IN (${f.map(() => "?").join(", ")})`
          return `${kind} ${f?.join("|") ?? "all"}: ${(d.query(`SELECT count(*) AS n FROM ${tableOf[kind]} ${where}`).get(...(f ?? [])) as { n: number }).n}`
        })
      ), { readonly: true })
]

const expectConsistent = async (scene: string, cwd: string, db: string) => {
  const [answered, counted] = await totals(cwd, db)
  expect({ scene, totals: answered }).toEqual({ scene, totals: counted })
  const both = withDb(db, countsBoth, { readonly: true })
  expect({ scene, kept: both.kept }).toEqual({ scene, kept: both.counted })
}

const verifyTables = (cwd: string) =>
  inWorktree(cwd, Effect.map(Effect.flatMap(Replay, (r) => r.verify), (v) => v.tables.filter((t) => !t.identical).map((t) => t.table)))

describe("status counts", () => {
  test("seeded walk: creates, status changes, claims, deletes with cascades and a pull keep the counts and every list total; rebuild, verify and the migration agree", async () => {
    const seed = 20_261_126
    const rng = seededRandom(seed)
    const repo = temp.repo()
    const feat = repo.addWorktree("feat")
    await expectConsistent(`seed ${seed}: empty`, repo.root, repo.db)
    const walk = (cwd: string, steps: number) =>
      inWorktree(
        cwd,
        Effect.gen(function*() {
          const t = yield* Tracker
          const queries = yield* Queries
          for (let i = 0; i < steps; i++) {
            const epics = yield* queries.epics()
            const tasks = yield* queries.tasks({})
            const subtasks = yield* queries.subtasks(undefined)
            const live = [...epics, ...tasks, ...subtasks]
            const roll = rng.int(100)
            // Refusals (the status machine, deleting what others depend on) are part of the walk: only what grove accepts happens.
            const command: Effect.Effect<unknown, unknown> = roll < 8 || epics.length === 0
              ? t.create("epic", undefined, { title: `epic ${i}` })
              : roll < 40 || tasks.length === 0
              ? t.create("task", rng.pick(epics)!.id, { title: `task ${i}` })
              : roll < 55
              ? t.create("subtask", rng.pick(tasks)!.id, { title: `subtask ${i}` })
              : roll < 85
              ? (() => {
                const x = rng.pick(live)!
                return t.update(x.kind, x.id, { status: rng.pick(statuses)! })
              })()
              : roll < 92
              ? (() => {
                const x = rng.pick([...tasks, ...subtasks])
                return x === undefined ? Effect.void : t.done(x.kind, x.id)
              })()
              : (() => {
                // An epic's deletion cascades to its tasks and their subtasks.
                const x = rng.pick(live)!
                return t.remove(x.kind, x.id)
              })()
            yield* Effect.either(command)
          }
        })
      )
    await walk(repo.root, 90)
    await expectConsistent(`seed ${seed}: after the walk on main`, repo.root, repo.db)
    await walk(feat, 40)
    await expectConsistent(`seed ${seed}: after the walk on feat`, repo.root, repo.db)
    await inWorktree(repo.root, Effect.flatMap(Sync, (s) => s.pull("feat")))
    await expectConsistent(`seed ${seed}: pulled from feat`, repo.root, repo.db)

    // The walk made something worth counting: every kind, several statuses, and deletions.
    const shape = withDb(repo.db, (d) => ({
      kinds: (d.query("SELECT count(DISTINCT kind) AS n FROM status_counts").get() as { n: number }).n,
      statuses: (d.query("SELECT count(DISTINCT status) AS n FROM status_counts").get() as { n: number }).n,
      deletions: (d.query("SELECT count(*) AS n FROM events WHERE op LIKE '%.deleted'").get() as { n: number }).n
    }), { readonly: true })
    expect(shape).toMatchObject({ kinds: 3, statuses: 4 })
    expect(shape.deletions).toBeGreaterThan(0)

    expect(await verifyTables(repo.root)).toEqual([])
    const kept = withDb(repo.db, (d) => d.query("SELECT * FROM status_counts ORDER BY kind, status").all(), { readonly: true })
    await inWorktree(repo.root, Effect.flatMap(Replay, (r) => r.rebuild()))
    expect(withDb(repo.db, (d) => d.query("SELECT * FROM status_counts ORDER BY kind, status").all(), { readonly: true })).toEqual(kept)
    await expectConsistent(`seed ${seed}: rebuilt`, repo.root, repo.db)
    // The triggers are back after the rebuild's load.
    await walk(repo.root, 20)
    await expectConsistent(`seed ${seed}: written after the rebuild`, repo.root, repo.db)

    // An existing database: below migration 12 the table is gone; bringing the schema up to date counts it.
    await inWorktree(repo.root, Effect.flatMap(Migrator, (m) => m.down(11)))
    expect(withDb(repo.db, (d) => d.query("SELECT name FROM sqlite_master WHERE name LIKE '%status_count%'").all(), { readonly: true })).toEqual([])
    await inWorktree(repo.root, Effect.flatMap(Migrator, (m) => m.ensureCurrent))
    await expectConsistent(`seed ${seed}: migrated`, repo.root, repo.db)
  }, 120_000)

  test("verify reports a kept count that drifted from the rows, and a rebuild counts it again", async () => {
    const repo = temp.repo()
    await inWorktree(
      repo.root,
      Effect.gen(function*() {
        const t = yield* Tracker
        const epic = (yield* t.create("epic", undefined, { title: "drift" })).id
        for (const title of ["a", "b", "c"]) yield* t.create("task", epic, { title })
      })
    )
    withDb(repo.db, (d) => d.run("UPDATE status_counts SET n = n + 5 WHERE kind = 'task' AND status = 'todo'"))
    expect(await verifyTables(repo.root)).toEqual(["status_counts"])
    await inWorktree(repo.root, Effect.flatMap(Replay, (r) => r.rebuild()))
    expect(await verifyTables(repo.root)).toEqual([])
    await expectConsistent("rebuilt after drift", repo.root, repo.db)
  }, 60_000)
})
