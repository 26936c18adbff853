/**
 * 1. Bulk create: `task create-many` of 1k / 10k / 100k tasks in one
 * transaction, in-process through Bulk.createMany, against raw prepared
 * inserts of the very same event and task rows into a database made by
 * grove's migrations; and the whole `grove task create-many --file` process
 * for 10k tasks against a raw `bun -e` process doing the same inserts.
 */
import type { Database } from "bun:sqlite"
import { spawnSync } from "bun"
import { Effect } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Bulk, type BulkLine } from "../src/tracker/Bulk.ts"
import { Tracker } from "../src/tracker/Tracker.ts"
import {
  type BenchContext,
  type BenchResult,
  bundleState,
  groveBin,
  groveRuntime,
  migratedRaw,
  now,
  openRaw,
  row,
  type Row,
  settle,
  stat,
  target,
  type Target
} from "./harness.ts"
import { makeRepo } from "../test/support/repo.ts"

const eventColumns = ["seq", "id", "tx_id", "stream_id", "clock", "entity_kind", "entity_id", "op", "payload", "payload_version", "cause_id", "frontier_id", "if_version"]
const taskColumns = ["id", "epic_id", "title", "description", "status", "owner", "version", "created_clock", "updated_clock"]
const txColumns = ["id", "stream_id", "worktree", "head", "actor", "committed_at"]

type Values = Array<string | number | null>

/** What grove wrote for one bulk create, read back so the baseline inserts exactly the same rows. */
interface Written {
  readonly tx: Values
  readonly events: Array<Values>
  readonly tasks: Array<Values>
  readonly hlc: number
}

const readBack = (db: Database, txId: number): Written => ({
  tx: db.query(`SELECT ${txColumns.join(", ")} FROM transactions WHERE id = ?`).values(txId)[0] as Values,
  events: db.query(`SELECT ${eventColumns.join(", ")} FROM events WHERE tx_id = ? ORDER BY seq`).values(txId) as Array<Values>,
  tasks: db.query(`SELECT ${taskColumns.join(", ")} FROM tasks ORDER BY created_clock`).values() as Array<Values>,
  hlc: (db.query("SELECT last FROM hlc").get() as { last: number }).last
})

const insertSql = (table: string, columns: ReadonlyArray<string>) =>
  `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`

/** The baseline: the same rows, one prepared statement per row, one transaction. */
const rawInsert = (db: Database, w: Written) => {
  const tx = db.prepare(insertSql("transactions", txColumns))
  const ev = db.prepare(insertSql("events", eventColumns))
  const task = db.prepare(insertSql("tasks", taskColumns))
  const hlc = db.prepare("UPDATE hlc SET last = ?")
  db.transaction(() => {
    tx.run(...(w.tx as Array<never>))
    for (const e of w.events) ev.run(...(e as Array<never>))
    for (const t of w.tasks) task.run(...(t as Array<never>))
    hlc.run(w.hlc)
  }).immediate()
}

const lines = (n: number): Array<BulkLine> => Array.from({ length: n }, (_, i) => ({ line: i + 1, value: { title: `task ${i + 1}` } }))

/** One in-process run of grove and of the baseline, each on a fresh database. */
const runOnce = async (n: number, input: ReadonlyArray<BulkLine>) => {
  const repo = makeRepo("bench-bulk")
  try {
    const rt = await groveRuntime(repo.root)
    let grove: number
    let written: Written
    try {
      const epic = await rt.runPromise(Effect.flatMap(Tracker, (t) => t.create("epic", undefined, { title: "bench" })))
      settle()
      const start = now()
      const r = await rt.runPromise(Effect.flatMap(Bulk, (b) => b.createMany("task", epic.id, input)))
      grove = now() - start
      if (r.created !== n) throw new Error(`create-many created ${r.created}, expected ${n}`)
    } finally {
      await rt.dispose()
    }
    const check = openRaw(repo.db)
    try {
      const txId = (check.query("SELECT max(id) AS id FROM transactions").get() as { id: number }).id
      written = readBack(check, txId)
    } finally {
      check.close()
    }
    if (written.events.length !== n || written.tasks.length !== n) throw new Error("unexpected row counts after create-many")

    const rawPath = NodePath.join(repo.base, "raw.db")
    const raw = migratedRaw(rawPath)
    let baseline: number
    try {
      raw.run("INSERT INTO streams (id, name) VALUES (?, 'main')", [written.tx[1] as number])
      settle()
      const start = now()
      rawInsert(raw, written)
      baseline = now() - start
      const count = (raw.query("SELECT count(*) AS n FROM tasks").get() as { n: number }).n
      if (count !== n) throw new Error(`baseline inserted ${count} tasks, expected ${n}`)
    } finally {
      raw.close()
    }
    return { grove, baseline }
  } finally {
    repo.cleanup()
  }
}

/** The raw baseline of the whole-process case: read the same file, parse, insert events and tasks. */
const rawProcessScript = `
import { Database } from "bun:sqlite"
import { readFileSync } from "node:fs"
const [dbPath, file, epic] = process.argv.slice(1)
const db = new Database(dbPath, { readwrite: true })
db.run("PRAGMA busy_timeout = 10000"); db.run("PRAGMA journal_mode = WAL"); db.run("PRAGMA synchronous = NORMAL")
const items = readFileSync(file, "utf8").split("\\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l))
const ev = db.prepare("INSERT INTO events (seq, id, tx_id, stream_id, clock, entity_kind, entity_id, op, payload, payload_version, cause_id, frontier_id, if_version, pos) VALUES (?, ?, ?, ?, ?, 'task', ?, 'task.created', ?, 1, NULL, NULL, 0, ?)")
const task = db.prepare("INSERT INTO tasks (id, epic_id, title, description, status, owner, version, created_clock, updated_clock) VALUES (?, ?, ?, '', 'todo', NULL, 1, ?, ?)")
db.transaction(() => {
  const stream = db.query("INSERT INTO streams (name) VALUES ('main') RETURNING id").get().id
  const tx = db.query("INSERT INTO transactions (stream_id, worktree, head, actor, committed_at) VALUES (?, ?, NULL, 'raw', ?) RETURNING id").get(stream, process.cwd(), Date.now()).id
  const clock = Date.now() * 4096
  items.forEach((item, i) => {
    const id = "t-" + (1e9 + i).toString(32)
    ev.run(i + 1, "r" + String(i).padStart(25, "0"), tx, stream, clock + i, id, JSON.stringify({ epic, title: item.title, description: "", status: "todo", owner: null }), i + 1)
    task.run(id, epic, item.title, clock + i, clock + i)
  })
  db.run("UPDATE hlc SET last = ?", [clock + items.length])
}).immediate()
db.close()
process.stdout.write(String(items.length))
`

/** The whole `grove task create-many --file` process (fresh database with one epic), and the raw process. */
const processOnce = async (n: number) => {
  const repo = makeRepo("bench-bulk-cli")
  try {
    const file = NodePath.join(repo.base, "tasks.jsonl")
    NodeFs.writeFileSync(file, Array.from({ length: n }, (_, i) => JSON.stringify({ title: `task ${i + 1}` })).join("\n") + "\n")
    const rt = await groveRuntime(repo.root)
    let epic: string
    try {
      epic = (await rt.runPromise(Effect.flatMap(Tracker, (t) => t.create("epic", undefined, { title: "bench" })))).id
    } finally {
      await rt.dispose()
    }
    const start = now()
    const r = spawnSync([process.execPath, groveBin, "task", "create-many", "--epic", epic, "--file", file, "--json"], { cwd: repo.root, env: process.env })
    const wall = now() - start
    const out = JSON.parse(r.stdout.toString()) as { ok: boolean; data: { created: number }; meta: { elapsedMs: number } }
    if (r.exitCode !== 0 || !out.ok || out.data.created !== n) throw new Error(`grove task create-many failed: ${r.stderr.toString()}${r.stdout.toString()}`)

    const rawPath = NodePath.join(repo.base, "raw.db")
    migratedRaw(rawPath).close()
    const rawStart = now()
    const b = spawnSync([process.execPath, "-e", rawProcessScript, rawPath, file, epic], { cwd: repo.root })
    const rawWall = now() - rawStart
    if (b.exitCode !== 0 || b.stdout.toString() !== String(n)) throw new Error(`raw create process failed: ${b.stderr.toString()}`)
    return { wall, handler: out.meta.elapsedMs, rawWall }
  } finally {
    repo.cleanup()
  }
}

export const bulkCreate = async (ctx: BenchContext): Promise<BenchResult> => {
  const started = now()
  const sizes = ctx.quick ? [{ n: 1_000, runs: 3 }, { n: 10_000, runs: 3 }] : [{ n: 1_000, runs: 7 }, { n: 10_000, runs: 5 }, { n: 100_000, runs: 3 }]
  const rows: Array<Row> = []
  const targets: Array<Target> = []
  const rates = new Map<number, number>()
  // One untimed run first: the JIT warms up once per process, not per size.
  await runOnce(1_000, lines(1_000))
  for (const { n, runs } of sizes) {
    const input = lines(n)
    const grove: Array<number> = []
    const base: Array<number> = []
    for (let i = 0; i < runs; i++) {
      const r = await runOnce(n, input)
      grove.push(n / (r.grove / 1000))
      base.push(n / (r.baseline / 1000))
    }
    const x = row({ benchmark: "bulk create", case: `${n.toLocaleString("en-US")} tasks, in-process`, unit: "tasks/s", better: "higher", ours: stat(grove), baseline: stat(base) })
    ctx.log(`bulk create ${n}: ${Math.round(x.ours.median)} tasks/s (baseline ${Math.round(x.baseline!.median)}, ratio ${x.ratio!.toFixed(2)})`)
    rows.push(x)
    rates.set(n, x.ours.median)
    targets.push(target(`${n} tasks: in-process rate`, x.ours.median, "min", 100_000, "tasks/s"))
    targets.push(target(`${n} tasks: rate / baseline rate`, x.ratio!, "min", 0.5, "x"))
  }
  for (const { n } of sizes) {
    const tenth = rates.get(n / 10)
    if (tenth !== undefined) targets.push(target(`scaling: rate at ${n} / rate at ${n / 10}`, rates.get(n)! / tenth, "min", 0.8, "x"))
  }

  const n = 10_000
  const processRuns = ctx.quick ? 3 : 7
  const walls: Array<number> = []
  const handlers: Array<number> = []
  const raws: Array<number> = []
  for (let i = 0; i < processRuns; i++) {
    const r = await processOnce(n)
    walls.push(r.wall)
    handlers.push(r.handler)
    raws.push(r.rawWall)
  }
  const proc = row({
    benchmark: "bulk create",
    case: `10,000 tasks, whole process (${bundleState().fresh ? "bundle" : "sources"})`,
    unit: "ms",
    better: "lower",
    ours: stat(walls),
    baseline: stat(raws),
    note: "grove task create-many --file vs bun -e raw inserts"
  })
  rows.push(proc)
  rows.push(row({ benchmark: "bulk create", case: "  of which command handler (meta.elapsedMs)", unit: "ms", better: "lower", ours: stat(handlers) }))
  ctx.log(`bulk create process: ${proc.ours.median.toFixed(0)} ms (handler ${stat(handlers).median} ms, raw ${proc.baseline!.median.toFixed(0)} ms)`)
  targets.push(target("10,000 tasks: whole process", proc.ours.median / 1000, "max", 0.25, "s"))

  return { name: "bulk create", rows, targets, details: { sizes }, seconds: (now() - started) / 1000 }
}
