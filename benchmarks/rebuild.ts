/**
 * 4. Rebuild and verify: `grove rebuild`'s work (src/app/Verify.ts `rebuildAll`:
 * Replay.rebuild with the sync state relearnt in the same transaction) and
 * `grove verify`'s (`verifyAll`: a scratch replay compared with the live
 * tables, and a relearn compared with the sync tables, rolled back) over
 * 1,000,000 events (quick: 20,000).
 *
 * The log is written through Writer.write in transactions of 10,000 events,
 * in blocks of 100 shaped like a working repository: 40 task.created,
 * 20 subtask.created (of earlier tasks), 35 updates (task.updated of title,
 * description, status or owner; task.claimed; subtask.updated) and
 * 5 dependency.added (a newer task on an older one, so never a cycle).
 *
 * The baseline is the floor for writing the end state a rebuild writes, with
 * raw bun:sqlite in one transaction, and the same bulk-load shape as the
 * rebuild: it drops the triggers and secondary indexes of the projection
 * tables and the sync tables a rebuild rewrites, empties them, inserts the
 * very rows the rebuild produced (read back beforehand, in creation or key
 * order, one cached prepared INSERT per row; the dependency counts as the
 * stored values, so no count pass), fills the search rows and their FTS5
 * index once with grove's own SQL (`fillSearch`), then creates the indexes and
 * triggers again. It reads no log, hashes nothing and decodes no payload: all
 * of that is grove's overhead over the floor.
 */
import type { Database } from "bun:sqlite"
import { Effect } from "effect"
import { draft, edgeId, type EventDraft } from "../src/events/Event.ts"
import { newEntityId } from "../src/events/ids.ts"
import { rebuildAll, verifyAll } from "../src/app/Verify.ts"
import { fillSearch } from "../src/projections/Search.ts"
import { projectionTables } from "../src/projections/tables.ts"
import { Writer } from "../src/write/Writer.ts"
import { Tracker } from "../src/tracker/Tracker.ts"
import {
  type BenchContext,
  type BenchResult,
  groveRuntime,
  type GroveRuntime,
  now,
  openRaw,
  row,
  type Row,
  settle,
  stat,
  target,
  type Target
} from "./harness.ts"
import { seededRandom } from "../test/support/random.ts"
import { makeRepo } from "../test/support/repo.ts"

const statuses = ["todo", "in_progress", "done", "blocked"] as const

/** Writes `total` events through Writer, `perTransaction` at a time. */
export const buildLog = async (rt: GroveRuntime, total: number, perTransaction: number) => {
  const rng = seededRandom(42)
  const epic = (await rt.runPromise(Effect.flatMap(Tracker, (t) => t.create("epic", undefined, { title: "bench" })))).id
  const tasks: Array<string> = []
  const subtasks: Array<string> = []
  const edges = new Set<string>()
  let written = 1
  while (written < total) {
    const drafts: Array<EventDraft> = []
    const want = Math.min(perTransaction, total - written)
    while (drafts.length < want) {
      const block = Math.min(100, want - drafts.length)
      for (let i = 0; i < block; i++) {
        const k = i % 100
        if (k < 40 || tasks.length < 10) {
          const id = newEntityId("task")
          tasks.push(id)
          drafts.push(draft("task.created", { kind: "task", id }, { epic, title: `task ${tasks.length}`, description: "", status: "todo", owner: null }))
        } else if (k < 60) {
          const id = newEntityId("subtask")
          subtasks.push(id)
          drafts.push(draft("subtask.created", { kind: "subtask", id }, { task: tasks[rng.int(tasks.length)]!, title: `subtask ${subtasks.length}`, description: "", status: "todo", owner: null }))
        } else if (k < 95) {
          const roll = rng.int(10)
          const task = { kind: "task" as const, id: tasks[rng.int(tasks.length)]! }
          if (roll < 3) drafts.push(draft("task.updated", task, { status: statuses[rng.int(4)]! }))
          else if (roll < 5) drafts.push(draft("task.updated", task, { title: `renamed ${written + drafts.length}` }))
          else if (roll < 6) drafts.push(draft("task.updated", task, { description: `notes ${written + drafts.length}` }))
          else if (roll < 7) drafts.push(draft("task.updated", task, { owner: `agent-${rng.int(20)}` }))
          else if (roll < 8) drafts.push(draft("task.claimed", task, { owner: `agent-${rng.int(20)}`, status: "in_progress" }))
          else if (subtasks.length > 0) drafts.push(draft("subtask.updated", { kind: "subtask", id: subtasks[rng.int(subtasks.length)]! }, { status: statuses[rng.int(4)]! }))
          else drafts.push(draft("task.updated", task, { status: statuses[rng.int(4)]! }))
        } else {
          // A newer task depends on an older one: edges only point back in creation order, so no cycle.
          const a = 1 + rng.int(tasks.length - 1)
          const source = { kind: "task" as const, id: tasks[a]! }
          const target = { kind: "task" as const, id: tasks[rng.int(a)]! }
          const id = edgeId(source, target)
          if (edges.has(id)) {
            drafts.push(draft("task.updated", source, { status: statuses[rng.int(4)]! }))
          } else {
            edges.add(id)
            drafts.push(draft("dependency.added", { kind: "dependency", id }, { source, target }))
          }
        }
      }
    }
    await rt.runPromise(Effect.flatMap(Writer, (w) => w.write((emit) => emit(drafts))))
    written += drafts.length
  }
  return { tasks: tasks.length, subtasks: subtasks.length, dependencies: edges.size }
}

/** Rows a rebuild inserts in creation order; the other tables it rewrites are read in their stored (rowid or key) order. */
const creationOrdered: Record<string, string> = { epics: "created_clock", tasks: "created_clock", subtasks: "created_clock", dependencies: "created_clock" }

/** Every table a rebuild rewrites: the projection (the FTS5 index is filled from `search_rows`) and the sync state it relearns. */
const rewritten = [
  ...projectionTables.map((t) => t.name).filter((name) => name !== "search" && name !== "search_rows"),
  "heads",
  "if_version_floors",
  "conflicts",
  "invariant_conflicts",
  "invariant_cycle_tasks",
  "stream_knowledge"
]

type Snapshot = ReadonlyArray<{ readonly name: string; readonly columns: ReadonlyArray<string>; readonly rows: ReadonlyArray<ReadonlyArray<unknown>> }>

/** The rebuilt tables' rows, in the order a rebuild inserts them. */
const snapshotRebuilt = (db: Database): Snapshot =>
  rewritten.map((name) => {
    const columns = (db.query(`PRAGMA table_info(${name})`).all() as Array<{ name: string }>).map((c) => c.name)
    const order = creationOrdered[name]
    return { name, columns, rows: db.query(`SELECT ${columns.join(", ")} FROM ${name}${order === undefined ? "" : ` ORDER BY ${order}`}`).values() }
  })

/**
 * The baseline: the same end state, bulk-loaded as a rebuild loads it
 * (triggers and secondary indexes off, one prepared INSERT per row, search
 * filled once, indexes and triggers created again), in one transaction.
 */
const rawRebuild = (db: Database, snapshot: Snapshot) => {
  const names = [...rewritten, "search_rows"]
  const schema = db.query(
    `SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL AND tbl_name IN (${names.map(() => "?").join(", ")})`
  ).all(...names) as Array<{ type: string; name: string; sql: string }>
  db.transaction(() => {
    for (const { type, name } of schema) db.run(`DROP ${type.toUpperCase()} ${name}`)
    for (const name of names) db.run(`DELETE FROM ${name}`)
    for (const t of snapshot) {
      const insert = db.prepare(`INSERT INTO ${t.name} (${t.columns.join(", ")}) VALUES (${t.columns.map(() => "?").join(", ")})`)
      for (const r of t.rows) insert.run(...(r as Array<never>))
    }
    fillSearch(db)
    for (const { sql } of schema) db.run(sql)
  }).immediate()
}

export const rebuild = async (ctx: BenchContext): Promise<BenchResult> => {
  const started = now()
  const total = ctx.quick ? 20_000 : 1_000_000
  const runs = ctx.quick ? 2 : 3
  const repo = makeRepo("bench-rebuild")
  try {
    const rt = await groveRuntime(repo.root)
    const rebuilds: Array<number> = []
    const verifies: Array<number> = []
    const baselines: Array<number> = []
    let shape: Awaited<ReturnType<typeof buildLog>>
    let buildSeconds: number
    try {
      const b = now()
      shape = await buildLog(rt, total, 10_000)
      buildSeconds = (now() - b) / 1000
      ctx.log(`rebuild: log of ${total} events written in ${buildSeconds.toFixed(1)} s (${shape.tasks} tasks, ${shape.subtasks} subtasks, ${shape.dependencies} dependencies)`)
      const before = await rt.runPromise(verifyAll)
      if (!before.identical) throw new Error("the live projection or sync state differs from a replay before any rebuild")
      await rt.runPromise(rebuildAll()) // untimed: warms the JIT and page cache
      for (let i = 0; i < runs; i++) {
        settle()
        let s = now()
        const r = await rt.runPromise(rebuildAll())
        rebuilds.push(r.events / ((now() - s) / 1000))
        if (r.events !== total) throw new Error(`rebuild replayed ${r.events} events, expected ${total}`)
        settle()
        s = now()
        const v = await rt.runPromise(verifyAll)
        verifies.push(v.events / ((now() - s) / 1000))
        if (!v.identical) throw new Error("verify found the rebuilt projection or sync state differs from a replay")
      }
    } finally {
      await rt.dispose()
    }
    const db = openRaw(repo.db)
    try {
      const snapshot = snapshotRebuilt(db)
      for (let i = 0; i < runs; i++) {
        settle()
        const s = now()
        rawRebuild(db, snapshot)
        baselines.push(total / ((now() - s) / 1000))
      }
    } finally {
      db.close()
    }
    const rows: Array<Row> = [
      row({ benchmark: "rebuild", case: `rebuild ${total.toLocaleString("en-US")} events`, unit: "events/s", better: "higher", ours: stat(rebuilds), baseline: stat(baselines) }),
      row({ benchmark: "rebuild", case: `verify ${total.toLocaleString("en-US")} events`, unit: "events/s", better: "higher", ours: stat(verifies), baseline: stat(baselines) })
    ]
    ctx.log(`rebuild: ${Math.round(rows[0]!.ours.median)} events/s, verify ${Math.round(rows[1]!.ours.median)} events/s (raw bulk load of the same end state ${Math.round(rows[0]!.baseline!.median)})`)
    const targets: Array<Target> = [target(`rebuild ${total} events: rate`, rows[0]!.ours.median, "min", 250_000, "events/s")]
    return { name: "rebuild", rows, targets, details: { events: total, buildSeconds, shape, runs }, seconds: (now() - started) / 1000 }
  } finally {
    repo.cleanup()
  }
}
