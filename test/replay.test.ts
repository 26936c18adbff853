import { beforeAll, describe, expect, it } from "bun:test"
import { Effect } from "effect"
import type { Status } from "../src/events/Event.ts"
import { projectionTables } from "../src/projections/tables.ts"
import { Queries } from "../src/projections/Queries.ts"
import { Replay } from "../src/projections/Replay.ts"
import { Bulk } from "../src/tracker/Bulk.ts"
import { Claims } from "../src/tracker/Claims.ts"
import { Tracker } from "../src/tracker/Tracker.ts"
import { countRows, fileRepo, grove, inWorktree, seededRandom, withDb } from "./support/index.ts"

/** Failures a random command may meet by design; anything else fails the test. */
const domainCodes = new Set([
  "not_found",
  "version_mismatch",
  "invalid_transition",
  "dependency_not_done",
  "claim_lost",
  "dependency_cycle",
  "self_dependency",
  "dependency_exists",
  "dependency_source_done",
  "bulk_input_invalid"
])
const statuses: ReadonlyArray<Status> = ["todo", "in_progress", "done", "blocked"]

/**
 * `count` random commands, each its own transaction, chosen by a seeded PRNG
 * from the current state. Returns how many of each kind succeeded.
 */
const randomCommands = (seed: number, count: number, tally: Map<string, number>) =>
  Effect.gen(function*() {
    const rng = seededRandom(seed)
    const tracker = yield* Tracker
    const claims = yield* Claims
    const bulk = yield* Bulk
    const queries = yield* Queries
    for (let i = 0; i < count; i++) {
      const epics = yield* queries.epics()
      const tasks = yield* queries.tasks({})
      const subtasks = yield* queries.subtasks(undefined)
      const edges = yield* queries.allDependencies()
      const nodes = [...tasks, ...subtasks]
      // Sometimes an id that does not exist, to exercise not_found.
      const idOf = (xs: ReadonlyArray<{ id: string }>, prefix: string) => rng.next() < 0.05 ? `${prefix}-nothere` : rng.pick(xs)?.id ?? `${prefix}-none`
      const version = (v: number) => (rng.next() < 0.15 ? (rng.next() < 0.5 ? v : v - 1) : undefined)
      const roll = rng.int(100)
      const [name, command]: [string, Effect.Effect<unknown, unknown>] = roll < 7 || epics.length === 0
        ? ["epic.create", tracker.create("epic", undefined, { title: `epic ${i}`, description: rng.next() < 0.5 ? "" : `about ${i}` })]
        : roll < 25
        ? ["task.create", tracker.create("task", idOf(epics, "e"), { title: `task ${i}`, owner: rng.next() < 0.3 ? `owner-${rng.int(3)}` : null })]
        : roll < 37 || tasks.length === 0
        ? ["subtask.create", tracker.create("subtask", idOf(tasks, "t"), { title: `subtask ${i}` })]
        : roll < 55
        ? (() => {
          const kind = rng.pick(["epic", "task", "subtask"] as const)!
          const pool: ReadonlyArray<{ id: string; version: number }> = kind === "epic" ? epics : kind === "task" ? tasks : subtasks
          const target = rng.pick(pool)
          const patch = {
            ...(rng.next() < 0.5 ? { status: rng.pick(statuses)! } : {}),
            ...(rng.next() < 0.3 ? { title: `renamed ${i}` } : {}),
            ...(rng.next() < 0.2 ? { description: `desc ${i}` } : {}),
            ...(rng.next() < 0.2 ? { owner: rng.next() < 0.5 ? null : `owner-${rng.int(3)}` } : {})
          }
          return ["update", tracker.update(kind, target?.id ?? "x-none", patch, version(target?.version ?? 1))] as [string, Effect.Effect<unknown, unknown>]
        })()
        : roll < 63
        ? ["claim", claims.claim("task", idOf(tasks, "t"), { owner: `owner-${rng.int(4)}` })]
        : roll < 71
        ? (() => {
          const node = rng.pick(nodes)
          return ["done", tracker.done(node?.kind ?? "task", node?.id ?? "t-none", version(node?.version ?? 1))] as [string, Effect.Effect<unknown, unknown>]
        })()
        : roll < 83
        ? ["dep.add", tracker.addDependency(idOf(nodes, "t"), idOf(nodes, "s"))]
        : roll < 88
        ? (() => {
          const edge = rng.pick(edges)
          return ["dep.remove", tracker.removeDependency(edge?.source.id ?? "t-none", edge?.target.id ?? "t-none")] as [string, Effect.Effect<unknown, unknown>]
        })()
        : roll < 94
        ? (() => {
          const kind = rng.next() < 0.2 ? "epic" : rng.next() < 0.5 ? "task" : "subtask"
          const pool: ReadonlyArray<{ id: string }> = kind === "epic" ? epics : kind === "task" ? tasks : subtasks
          return [`delete`, tracker.remove(kind, rng.pick(pool)?.id ?? "x-none")] as [string, Effect.Effect<unknown, unknown>]
        })()
        : roll < 97
        ? [
          "bulk.create",
          bulk.createMany(
            rng.next() < 0.5 ? "task" : "subtask",
            undefined,
            Array.from({ length: 1 + rng.int(6) }, (_, k) => ({
              line: k + 1,
              value: { title: `bulk ${i}.${k}`, parent: rng.next() < 0.5 ? rng.pick(epics)?.id : rng.pick(tasks)?.id }
            }))
          )
        ]
        : [
          "bulk.deps",
          bulk.addDependencies(
            Array.from({ length: 1 + rng.int(4) }, (_, k) => ({
              line: k + 1,
              value: { source: rng.pick(nodes)?.id ?? "t-none", target: rng.pick(nodes)?.id ?? "t-none" }
            }))
          )
        ]
      const outcome = yield* Effect.either(command)
      if (outcome._tag === "Left") {
        const code = (outcome.left as { code?: string }).code
        if (code === undefined || !domainCodes.has(code)) {
          return yield* Effect.die(new Error(`command ${i} (${name}) failed unexpectedly: ${String((outcome.left as Error).message ?? outcome.left)}`))
        }
        tally.set(`${name} refused`, (tally.get(`${name} refused`) ?? 0) + 1)
      } else {
        tally.set(name, (tally.get(name) ?? 0) + 1)
      }
    }
  })

/** Every projection row, table by table, in key order. */
const projection = (path: string) =>
  withDb(path, (db) => Object.fromEntries(projectionTables.map((t) => [t.name, db.query(`SELECT * FROM ${t.name} ORDER BY ${t.key}`).all()])))

const repo = fileRepo()
const root = repo.root
const tally = new Map<string, number>()

beforeAll(async () => {
  const worktree = repo.addWorktree("feature/replay")
  // 300 commands in 6 runs of 50, alternating between the main checkout and a linked worktree.
  for (let run = 0; run < 6; run++) {
    await inWorktree(run % 2 === 0 ? root : worktree, randomCommands(20_240_601 + run, 50, tally))
  }
}, 30_000)

describe("rebuild and verify", () => {
  it("after 300 seeded random commands, verify reports identical, and so does it after rebuild, which changes nothing", async () => {
    // The sequence really exercised the commands (and some refusals), so there is something to replay.
    const kinds = ["epic.create", "task.create", "subtask.create", "update", "claim", "done", "dep.add", "dep.remove", "delete", "bulk.create", "bulk.deps"]
    expect(Object.fromEntries(kinds.map((k) => [k, (tally.get(k) ?? 0) > 0]))).toEqual(Object.fromEntries(kinds.map((k) => [k, true])))
    expect([...tally.keys()].some((k) => k.endsWith("refused"))).toBe(true)
    const ops = withDb(repo.db, (db) => (db.query("SELECT DISTINCT op FROM events").all() as Array<{ op: string }>).map((r) => r.op))
    for (const op of ["epic.deleted", "task.deleted", "subtask.deleted", "dependency.removed", "task.claimed"]) expect(ops).toContain(op)

    const events = countRows(repo.db, "events")
    const first = await inWorktree(root, Effect.flatMap(Replay, (r) => r.verify))
    expect(first.identical).toBe(true)
    expect(first.events).toBe(events)
    expect(first.tables.map((t) => t.table)).toEqual(projectionTables.map((t) => t.name))
    expect(first.tables.every((t) => t.identical && t.live.rows === t.replayed.rows)).toBe(true)
    expect(first.tables.find((t) => t.table === "tasks")!.live.rows).toBeGreaterThan(0)

    const before = projection(repo.db)
    const rebuilt = await inWorktree(root, Effect.flatMap(Replay, (r) => r.rebuild()))
    expect(rebuilt.events).toBe(events)
    expect(projection(repo.db)).toEqual(before)
    const second = await inWorktree(root, Effect.flatMap(Replay, (r) => r.verify))
    expect(second.identical).toBe(true)
    expect(second.tables.map((t) => t.live.checksum)).toEqual(first.tables.map((t) => t.live.checksum))
  })

  it("verify detects a tampered projection row: identical:false in-process, exit 1 with verify_mismatch from the CLI", async () => {
    const before = projection(repo.db)
    const victim = (before["tasks"] as Array<{ id: string; title: string }>)[0]!
    withDb(repo.db, (db) => db.run("UPDATE tasks SET title = 'tampered' WHERE id = ?", [victim.id]))
    try {
      const report = await inWorktree(root, Effect.flatMap(Replay, (r) => r.verify))
      expect(report.identical).toBe(false)
      expect(Object.fromEntries(report.tables.map((t) => [t.table, t.identical]))).toEqual({
        epics: true,
        tasks: false,
        subtasks: true,
        dependencies: true,
        leases: true,
        notes: true,
        plan_keys: true,
        // A title is not counted: the counts per status stand.
        status_counts: true,
        // The tampered title reached the search rows and index through their triggers.
        search_rows: false,
        search: false
      })
      const tasks = report.tables.find((t) => t.table === "tasks")!
      expect(tasks.live.rows).toBe(tasks.replayed.rows)
      expect(tasks.live.checksum).not.toBe(tasks.replayed.checksum)

      const cli = grove(root, ["verify", "--json"])
      expect(cli.exitCode).toBe(1)
      expect(cli.json).toMatchObject({ ok: false, command: "verify", error: { code: "verify_mismatch", details: { identical: false } } })
      expect(cli.json.error.message).toContain("DIFFERS tasks")
    } finally {
      withDb(repo.db, (db) => db.run("UPDATE tasks SET title = ? WHERE id = ?", [victim.title, victim.id]))
    }
    expect(projection(repo.db)).toEqual(before)
    const clean = grove(root, ["verify", "--json"])
    expect(clean.exitCode).toBe(0)
    expect(clean.json.data.identical).toBe(true)
  })

  it("rebuild restores tampered rows: a changed row, a deleted edge and a stray row all come back to the log's state", async () => {
    const before = projection(repo.db)
    const task = (before["tasks"] as Array<{ id: string }>)[0]!
    const edge = (before["dependencies"] as Array<{ source_id: string; target_id: string }>)[0]!
    const subtask = (before["subtasks"] as Array<{ id: string }>)[0]!
    withDb(repo.db, (db) => {
      db.run("UPDATE tasks SET title = 'tampered', status = 'done', version = 99 WHERE id = ?", [task.id])
      db.run("DELETE FROM dependencies WHERE source_id = ? AND target_id = ?", [edge.source_id, edge.target_id])
      db.run("UPDATE subtasks SET owner = 'mallory' WHERE id = ?", [subtask.id])
      db.run("INSERT INTO epics (id, title, description, status, version, created_clock, updated_clock) VALUES ('e-stray', 'stray', '', 'todo', 1, 1, 1)")
    })
    expect(projection(repo.db)).not.toEqual(before)
    expect((await inWorktree(root, Effect.flatMap(Replay, (r) => r.verify))).identical).toBe(false)

    await inWorktree(root, Effect.flatMap(Replay, (r) => r.rebuild()))
    expect(projection(repo.db)).toEqual(before)
    expect((await inWorktree(root, Effect.flatMap(Replay, (r) => r.verify))).identical).toBe(true)
    // The log itself was never touched by either.
    expect(countRows(repo.db, "events", "WHERE entity_id = 'e-stray'")).toBe(0)
  })
})
