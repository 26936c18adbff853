/**
 * 4. Rebuild and verify: Replay.rebuild (replay the whole log into fresh
 * projection tables, one transaction) and Replay.verify (replay into a scratch
 * in-memory database and compare checksums) over 1,000,000 events (quick: 20,000).
 *
 * The log is written through Writer.write in transactions of 10,000 events,
 * in blocks of 100 shaped like a working repository: 40 task.created,
 * 20 subtask.created (of earlier tasks), 35 updates (task.updated of title,
 * description, status or owner; task.claimed; subtask.updated) and
 * 5 dependency.added (a newer task on an older one, so never a cycle).
 * The baseline deletes the projection and inserts the very same rows the
 * rebuild produces, in creation order, with raw prepared statements in one
 * transaction: the floor for writing that projection.
 */
import type { Database } from "bun:sqlite"
import { Effect } from "effect"
import { draft, edgeId, type EventDraft } from "../src/events/Event.ts"
import { newEntityId } from "../src/events/ids.ts"
import { Replay } from "../src/projections/Replay.ts"
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

const tables = [
  { name: "epics", order: "created_clock" },
  { name: "tasks", order: "created_clock" },
  { name: "subtasks", order: "created_clock" },
  { name: "dependencies", order: "created_clock" }
] as const

type Snapshot = ReadonlyArray<{ readonly name: string; readonly columns: ReadonlyArray<string>; readonly rows: ReadonlyArray<ReadonlyArray<unknown>> }>

/** The projection's rows in creation order, as a replay inserts them. */
const snapshotProjection = (db: Database): Snapshot =>
  tables.map((t) => {
    const columns = (db.query(`PRAGMA table_info(${t.name})`).all() as Array<{ name: string }>).map((c) => c.name)
    return { name: t.name, columns, rows: db.query(`SELECT ${columns.join(", ")} FROM ${t.name} ORDER BY ${t.order}`).values() }
  })

/** The baseline: delete the projection, insert the same rows, one prepared INSERT per row, one transaction. */
const rawRebuild = (db: Database, snapshot: Snapshot) => {
  const inserts = snapshot.map((t) => ({ t, stmt: db.prepare(`INSERT INTO ${t.name} (${t.columns.join(", ")}) VALUES (${t.columns.map(() => "?").join(", ")})`) }))
  db.transaction(() => {
    for (const t of snapshot) db.run(`DELETE FROM ${t.name}`)
    for (const { t, stmt } of inserts) for (const r of t.rows) stmt.run(...(r as Array<never>))
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
      const replay = await rt.runPromise(Replay)
      const before = await rt.runPromise(replay.verify)
      if (!before.identical) throw new Error("the live projection differs from a replay before any rebuild")
      await rt.runPromise(replay.rebuild()) // untimed: warms the JIT and page cache
      for (let i = 0; i < runs; i++) {
        settle()
        let s = now()
        const r = await rt.runPromise(replay.rebuild())
        rebuilds.push(r.events / ((now() - s) / 1000))
        if (r.events !== total) throw new Error(`rebuild replayed ${r.events} events, expected ${total}`)
        settle()
        s = now()
        const v = await rt.runPromise(replay.verify)
        verifies.push(v.events / ((now() - s) / 1000))
        if (!v.identical) throw new Error("verify found the rebuilt projection differs from a replay")
      }
    } finally {
      await rt.dispose()
    }
    const db = openRaw(repo.db)
    try {
      const snapshot = snapshotProjection(db)
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
    ctx.log(`rebuild: ${Math.round(rows[0]!.ours.median)} events/s, verify ${Math.round(rows[1]!.ours.median)} events/s (raw projection insert ${Math.round(rows[0]!.baseline!.median)})`)
    const targets: Array<Target> = [target(`rebuild ${total} events: rate`, rows[0]!.ours.median, "min", 200_000, "events/s")]
    return { name: "rebuild", rows, targets, details: { events: total, buildSeconds, shape, runs }, seconds: (now() - started) / 1000 }
  } finally {
    repo.cleanup()
  }
}
