/**
 * Latency of single-item commands, each a whole `grove` process (bin/grove
 * run as an executable, as a user runs it: through its sh line, which sets
 * the engine's JIT thresholds, docs/decisions.md "Start-up") on a database
 * of 10,000 tasks (quick: 2,000), median of
 * 20 runs (quick: 7). Runs are interleaved round-robin, one process of each
 * case per round, so load on the machine falls on every case alike.
 *
 * Baselines in the same rounds:
 * - bare Bun: `bun -e 0`, the floor of any Bun process. Targets are ratios to it.
 * - raw: a `bun -e` process given the database path that does the same read or
 *   write with bun:sqlite (the same rows, the same transaction shape: clock,
 *   transaction row, event row, projection row). Writes go to a copy of the
 *   database made after seeding, so the raw baseline never disturbs grove's.
 *
 * Cases: --version, --help, task show, task create, task update, task claim
 * (a different task each run), next (read-only: the pick, no claim), sync
 * status (feat worktree against main).
 */
import { Database } from "bun:sqlite"
import { spawnSync } from "bun"
import { Effect } from "effect"
import * as NodePath from "node:path"
import { Bulk, type BulkLine } from "../src/tracker/Bulk.ts"
import { Tracker } from "../src/tracker/Tracker.ts"
import {
  type BenchContext,
  type BenchResult,
  bundleState,
  groveBin,
  groveRuntime,
  now,
  row,
  type Row,
  stat,
  target,
  type Target
} from "./harness.ts"
import { makeRepo } from "../test/support/repo.ts"
import { syncStatusScript } from "./coldStart.ts"

/** Reads what `task show` reads: the task, its subtasks and its edges both ways, printed as JSON. */
const showScript = `
import { Database } from "bun:sqlite"
const [path, id] = process.argv.slice(1)
const db = new Database(path, { readonly: true })
const task = db.query("SELECT 'task' AS kind, id, title, description, status, version, created_clock AS createdClock, updated_clock AS updatedClock, epic_id AS epicId, owner FROM tasks WHERE id = ?").get(id)
const children = db.query("SELECT id, title, status FROM subtasks WHERE task_id = ? ORDER BY created_clock").all(id)
const out = db.query("SELECT * FROM dependencies WHERE source_kind = 'task' AND source_id = ? ORDER BY created_clock").all(id)
const into = db.query("SELECT * FROM dependencies WHERE target_kind = 'task' AND target_id = ? ORDER BY created_clock").all(id)
console.log(JSON.stringify({ ok: true, data: { ...task, children, dependsOn: out, dependedOnBy: into } }))
`

/**
 * One write as grove shapes it: under BEGIN IMMEDIATE, advance the clock, record
 * the transaction's context, append the event at the stream's next position and
 * change the projection row. MODE is create, update or claim.
 */
const writeScript = `
import { Database } from "bun:sqlite"
const [path, mode, id, value, epic] = process.argv.slice(1)
const db = new Database(path, { readwrite: true })
db.run("PRAGMA busy_timeout = 10000"); db.run("PRAGMA synchronous = NORMAL"); db.run("PRAGMA foreign_keys = ON")
db.transaction(() => {
  const clock = db.query("UPDATE hlc SET last = max(last + 1, ?) RETURNING last").get(Date.now() * 1024).last
  const tx = db.query("INSERT INTO transactions (stream_id, worktree, head, actor, committed_at) VALUES (1, ?, NULL, 'bench', ?) RETURNING id").get(process.cwd(), Date.now()).id
  const pos = db.query("SELECT coalesce(max(pos), 0) + 1 AS pos FROM events WHERE stream_id = 1").get().pos
  const op = mode === "create" ? "task.created" : mode === "claim" ? "task.claimed" : "task.updated"
  const payload = JSON.stringify(mode === "create" ? { title: value, description: "", epicId: epic } : mode === "claim" ? { owner: value } : { title: value })
  db.query("INSERT INTO events (id, tx_id, stream_id, clock, entity_kind, entity_id, op, payload, payload_version, pos) VALUES (?, ?, 1, ?, 'task', ?, ?, ?, 1, ?)")
    .run(crypto.randomUUID(), tx, clock, id, op, payload, pos)
  if (mode === "create") {
    db.query("INSERT INTO tasks (id, epic_id, title, description, status, owner, version, created_clock, updated_clock) VALUES (?, ?, ?, '', 'todo', NULL, 1, ?, ?)").run(id, epic, value, clock, clock)
  } else if (mode === "claim") {
    const r = db.query("UPDATE tasks SET owner = ?, status = 'in_progress', version = version + 1, updated_clock = ? WHERE id = ? AND owner IS NULL").run(value, clock, id)
    if (r.changes !== 1) throw new Error("claim lost")
  } else {
    db.query("UPDATE tasks SET title = ?, version = version + 1, updated_clock = ? WHERE id = ?").run(value, clock, id)
  }
}).immediate()
console.log(JSON.stringify({ ok: true }))
`

/** What \`next\` reads at least: the oldest ready task (todo, no unfinished dependency). */
const nextScript = `
import { Database } from "bun:sqlite"
const db = new Database(process.argv[1], { readonly: true })
const task = db.query("SELECT * FROM tasks t WHERE status = 'todo' AND NOT EXISTS (SELECT 1 FROM dependencies d WHERE d.source_kind = 'task' AND d.source_id = t.id AND coalesce((SELECT status FROM tasks WHERE d.target_kind = 'task' AND id = d.target_id), (SELECT status FROM subtasks WHERE d.target_kind = 'subtask' AND id = d.target_id)) IS NOT 'done') ORDER BY created_clock LIMIT 1").get()
console.log(JSON.stringify({ ok: true, data: task }))
`


interface Case {
  readonly name: string
  /** The grove arguments of run i. */
  readonly argv: (i: number) => Array<string>
  readonly cwd: string
  /** The raw bun:sqlite process of run i, if the case reads or writes the database. */
  readonly raw?: (i: number) => Array<string>
  /** The most a median may take, in ms, and as a multiple of bare Bun. */
  readonly limitMs: number
  readonly limitRatio: number
}

/**
 * Wall time, and the process's own CPU time (user + system): on a loaded
 * machine wall time mostly measures waiting for a core, CPU time much less so.
 */
const run = (cmd: Array<string>, cwd: string) => {
  const start = now()
  const r = spawnSync(cmd, { cwd, env: process.env })
  const ms = now() - start
  if (r.exitCode !== 0) throw new Error(`${cmd.slice(0, 5).join(" ")} exited ${r.exitCode}: ${r.stdout.toString().slice(0, 300)}${r.stderr.toString().slice(0, 300)}`)
  const cpu = r.resourceUsage === undefined ? NaN : (Number(r.resourceUsage.cpuTime.user) + Number(r.resourceUsage.cpuTime.system)) / 1000
  return { ms, cpu }
}

export const latency = async (ctx: BenchContext): Promise<BenchResult> => {
  const started = now()
  const runs = ctx.quick ? 7 : 20
  const size = ctx.quick ? 2_000 : 10_000
  const bundle = bundleState()
  if (!bundle.fresh) ctx.log(`latency: dist/ is ${bundle.exists ? "older than src/" : "missing"}, so bin/grove runs the sources (npm run build makes the bundle)`)
  const repo = makeRepo("bench-latency")
  try {
    const feat = repo.addWorktree("feat")
    const rt = await groveRuntime(repo.root)
    let epic: string
    let tasks: Array<string>
    try {
      epic = (await rt.runPromise(Effect.flatMap(Tracker, (t) => t.create("epic", undefined, { title: "bench" })))).id
      const lines = Array.from({ length: size }, (_, i): BulkLine => ({ line: i + 1, value: { title: `task ${i + 1}`, description: `what task ${i + 1} is about` } }))
      tasks = (await rt.runPromise(Effect.flatMap(Bulk, (b) => b.createMany("task", epic, lines)))).ids as Array<string>
    } finally {
      await rt.dispose()
    }
    const featRt = await groveRuntime(feat)
    try {
      const featEpic = (await featRt.runPromise(Effect.flatMap(Tracker, (t) => t.create("epic", undefined, { title: "feat work" })))).id
      const lines = Array.from({ length: 100 }, (_, i): BulkLine => ({ line: i + 1, value: { title: `feat task ${i + 1}` } }))
      await featRt.runPromise(Effect.flatMap(Bulk, (b) => b.createMany("task", featEpic, lines)))
    } finally {
      await featRt.dispose()
    }
    // The raw writers' own copy, identical to what grove starts from.
    const rawPath = NodePath.join(repo.base, "raw.db")
    const source = new Database(repo.db)
    source.run(`VACUUM INTO '${rawPath}'`)
    source.close()

    const bun = process.execPath
    const grove = (...args: Array<string>) => [groveBin, ...args]
    const shown = tasks[Math.floor(size / 2)]!
    // Claims take a fresh task each run, from the end for grove and from the start for raw.
    const cases: ReadonlyArray<Case> = [
      { name: "grove --version", argv: () => grove("--version"), cwd: repo.root, limitMs: 20, limitRatio: 4 },
      { name: "grove --help", argv: () => grove("--help"), cwd: repo.root, limitMs: 20, limitRatio: 4 },
      { name: "task show", argv: () => grove("task", "show", shown, "--json"), cwd: repo.root, raw: () => [bun, "-e", showScript, repo.db, shown], limitMs: 30, limitRatio: 6 },
      {
        name: "task create",
        argv: (i) => grove("task", "create", "--epic", epic, "--title", `created ${i}`, "--json"),
        cwd: repo.root,
        raw: (i) => [bun, "-e", writeScript, rawPath, "create", `t-raw${i}`, `created ${i}`, epic],
        limitMs: 30,
        limitRatio: 6
      },
      {
        name: "task update",
        argv: (i) => grove("task", "update", shown, "--title", `retitled ${i}`, "--json"),
        cwd: repo.root,
        raw: (i) => [bun, "-e", writeScript, rawPath, "update", shown, `retitled ${i}`],
        limitMs: 30,
        limitRatio: 6
      },
      {
        name: "task claim",
        argv: (i) => grove("task", "claim", tasks[size - 1 - (i + 1)]!, "--owner", "bench", "--json"),
        cwd: repo.root,
        raw: (i) => [bun, "-e", writeScript, rawPath, "claim", tasks[i + 1]!, "bench"],
        limitMs: 30,
        limitRatio: 6
      },
      { name: "next", argv: () => grove("next", "--json"), cwd: repo.root, raw: () => [bun, "-e", nextScript, repo.db], limitMs: 30, limitRatio: 6 },
      { name: "sync status", argv: () => grove("sync", "status", "--json"), cwd: feat, raw: () => [bun, "-e", syncStatusScript, repo.db, feat], limitMs: 30, limitRatio: 6 }
    ]
    const samples: Record<string, Array<number>> = {}
    const cpu: Record<string, Array<number>> = {}
    const add = (k: string, v: { ms: number; cpu: number }) => {
      ;(samples[k] ??= []).push(v.ms)
      ;(cpu[k] ??= []).push(v.cpu)
    }
    // Round -1 warms the OS page cache (bun, the bundle, the database) and is not counted.
    for (let i = -1; i < runs; i++) {
      const bare = run([bun, "-e", "0"], repo.root)
      if (i >= 0) add("bare", bare)
      for (const c of cases) {
        const k = i + 1
        const ours = run(c.argv(k), c.cwd)
        const raw = c.raw ? run(c.raw(k), c.cwd) : undefined
        if (i < 0) continue
        add(c.name, ours)
        if (raw !== undefined) add(`${c.name} raw`, raw)
      }
    }
    const bare = stat(samples["bare"]!)
    const bareCpu = stat(cpu["bare"]!)
    const rows: Array<Row> = [
      row({ benchmark: "latency", case: "bun -e 0 (bare process)", unit: "ms", better: "lower", ours: bare }),
      ...cases.flatMap((c) => [
        row({ benchmark: "latency", case: `${c.name} (whole process) / bare bun`, unit: "ms", better: "lower", ours: stat(samples[c.name]!), baseline: bare }),
        ...(c.raw ? [row({ benchmark: "latency", case: `${c.name} / raw bun:sqlite process`, unit: "ms", better: "lower", ours: stat(samples[c.name]!), baseline: stat(samples[`${c.name} raw`]!) })] : [])
      ]),
      row({ benchmark: "latency", case: "CPU time: bun -e 0", unit: "ms", better: "lower", ours: bareCpu }),
      ...cases.flatMap((c) => [
        row({ benchmark: "latency", case: `CPU time: ${c.name} / bare bun`, unit: "ms", better: "lower", ours: stat(cpu[c.name]!), baseline: bareCpu }),
        ...(c.raw ? [row({ benchmark: "latency", case: `CPU time: ${c.name} / raw bun:sqlite`, unit: "ms", better: "lower", ours: stat(cpu[c.name]!), baseline: stat(cpu[`${c.name} raw`]!) })] : [])
      ])
    ]
    const targets: Array<Target> = cases.flatMap((c) => {
      const m = stat(samples[c.name]!).median
      return [
        target(`${c.name}: median whole process`, m, "max", c.limitMs, "ms"),
        target(`${c.name}: median / bare bun`, m / bare.median, "max", c.limitRatio, "x")
      ]
    })
    ctx.log(`latency: bare bun ${bare.median.toFixed(1)} ms; ${cases.map((c) => `${c.name} ${stat(samples[c.name]!).median.toFixed(1)}`).join(", ")}`)
    return { name: "latency", rows, targets, details: { runs, tasks: size, bundle, samples, cpu }, seconds: (now() - started) / 1000 }
  } finally {
    repo.cleanup()
  }
}
