/**
 * Reads at scale: `task list` (first page of 50), `task ready` (first page),
 * `task show` and `next`, each a whole `grove --json` process (bin/grove run
 * as a program, as a user does), on databases
 * of 10,000 and 60,000 tasks (quick: 2,000 and 10,000). The first sixth of
 * the tasks have no dependencies, a third of those are done; every other task
 * depends on two of them, so the larger database holds 100,000 edges and
 * `ready` must look past blocked tasks. Median of 15 runs (quick: 5),
 * interleaved with the baseline; wall and CPU time (user + system) of each
 * process.
 *
 * Baseline: a `bun -e` process that opens the file with grove's connection
 * PRAGMAs and runs the same SELECTs with bun:sqlite (ready's and next's are
 * grove's own SQL, imported). Every query's EXPLAIN QUERY PLAN is recorded;
 * a plan step that scans a whole table (SCAN without an index) is reported.
 */
import { Database } from "bun:sqlite"
import { spawnSync } from "bun"
import { Effect } from "effect"
import { readyCondition } from "../src/projections/Queries.ts"
import { candidatesSql } from "../src/projections/Work.ts"
import { Bulk, type BulkLine } from "../src/tracker/Bulk.ts"
import { Tracker } from "../src/tracker/Tracker.ts"
import { makeRepo } from "../test/support/repo.ts"
import { type BenchContext, type BenchResult, grovePragmas, groveBin, groveRuntime, now, row, type Row, stat, target, type Target } from "./harness.ts"

const selectTask = "SELECT 'task' AS kind, id, title, description, status, version, created_clock AS createdClock, updated_clock AS updatedClock, epic_id AS epicId, owner FROM tasks"

/** A statement and its parameters, as grove runs it. */
type Statement = { readonly sql: string; readonly params: ReadonlyArray<string | number | null> }

/** The statements grove runs for each read (`shown`: the task `show` reads), as the raw baseline runs them too. */
const queries = (db: Database, shown: string, who: string) => {
  const ready = readyCondition(db)
  const show = (id: string) => [
    { sql: `${selectTask} WHERE id = ?1`, params: [id] },
    { sql: "SELECT id FROM subtasks WHERE task_id = ?1 ORDER BY created_clock", params: [id] },
    { sql: "SELECT * FROM dependencies WHERE source_kind = 'task' AND source_id = ?1 ORDER BY created_clock", params: [id] },
    { sql: "SELECT * FROM dependencies WHERE target_kind = 'task' AND target_id = ?1 ORDER BY created_clock", params: [id] }
  ]
  return {
    list: [
      { sql: `${selectTask} WHERE +status IN ('todo', 'in_progress', 'blocked') ORDER BY created_clock, id LIMIT 51`, params: [] },
      { sql: "SELECT coalesce(sum(n), 0) AS n FROM status_counts WHERE kind = 'task' AND status IN ('todo', 'in_progress', 'blocked')", params: [] }
    ],
    ready: [
      { sql: `${selectTask} t WHERE ${ready} ORDER BY created_clock, id LIMIT 51`, params: [] },
      { sql: `SELECT count(*) AS n FROM tasks t WHERE ${ready}`, params: [] }
    ],
    show: show(shown),
    // The agent's own tasks in progress (none here), the best candidate, then what `next` shows of it.
    next: [
      { sql: `${selectTask} t WHERE t.owner = ?1 AND t.status = 'in_progress' ORDER BY t.created_clock, t.id`, params: [who] },
      { sql: candidatesSql(db), params: [null, who, Date.now(), 1] },
      ...show((db.query(candidatesSql(db)).get(null, who, Date.now(), 1) as { id: string }).id)
    ]
  }
}

const rawScript = (statements: ReadonlyArray<Statement>) => `
import { Database } from "bun:sqlite"
const db = new Database(process.argv[1], { create: true, readwrite: true })
for (const pragma of ${JSON.stringify(grovePragmas())}) db.run(pragma)
const out = ${JSON.stringify(statements)}.map(({ sql, params }) => db.query(sql).all(...params))
console.log(JSON.stringify({ ok: true, data: out }))
`

/** Wall time, and the process's own CPU time (user + system), which a loaded machine disturbs far less. */
const run = (cmd: Array<string>, cwd: string) => {
  const start = now()
  const r = spawnSync(cmd, { cwd, env: process.env })
  const ms = now() - start
  if (r.exitCode !== 0) throw new Error(`${cmd.slice(0, 5).join(" ")} exited ${r.exitCode}: ${r.stdout.toString().slice(0, 300)}${r.stderr.toString().slice(0, 300)}`)
  const cpu = r.resourceUsage === undefined ? NaN : (Number(r.resourceUsage.cpuTime.user) + Number(r.resourceUsage.cpuTime.system)) / 1000
  return { ms, cpu, stdout: r.stdout.toString() }
}

/** Who runs the commands: the repository's git user (test/support/repo.ts), grove's actor when GROVE_ACTOR is unset. */
const actor = "dev@example.com"

/** A database of `size` tasks (see the header) in a fresh repository. */
export const seed = async (size: number) => {
  const repo = makeRepo(`bench-reads-${size}`)
  const rt = await groveRuntime(repo.root)
  try {
    const epic = (await rt.runPromise(Effect.flatMap(Tracker, (t) => t.create("epic", undefined, { title: "reads" })))).id
    const lines = Array.from({ length: size }, (_, i): BulkLine => ({ line: i + 1, value: { title: `task ${i + 1}`, description: `what task ${i + 1} is about` } }))
    const ids = (await rt.runPromise(Effect.flatMap(Bulk, (b) => b.createMany("task", epic, lines)))).ids
    const base = Math.floor(size / 6)
    for (let i = 0; i < base; i += 3) await rt.runPromise(Effect.flatMap(Tracker, (t) => t.done("task", ids[i]!)))
    const edges = ids.slice(base).flatMap((id, k): Array<BulkLine> => [
      { line: 2 * k + 1, value: { source: id, target: ids[(k * 7) % base]! } },
      { line: 2 * k + 2, value: { source: id, target: ids[(k * 13 + 1) % base]! } }
    ]).filter((l, i, all) => i % 2 === 0 || (l.value as { target: string }).target !== (all[i - 1]!.value as { target: string }).target)
    await rt.runPromise(Effect.flatMap(Bulk, (b) => b.addDependencies(edges)))
    return { repo, shown: ids[Math.floor(size * 0.9)]!, edges: edges.length }
  } finally {
    await rt.dispose()
  }
}

/** Plan steps that walk a whole table without an index. */
const scans = (db: Database, { sql }: Statement, plan: ReadonlyArray<{ detail: string }>) => {
  const tables = (db.query("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name)
  // A step names a table or its alias (`tasks t`); a common table expression's rows (`cand c`) are no table.
  const isTable = (name: string) => tables.includes(name) || new RegExp(`\\b(${tables.join("|")})\\s+(AS\\s+)?${name}\\b`).test(sql)
  return plan.map((p) => p.detail).filter((d) => /^SCAN (\w+)$/.test(d) && isTable(d.slice(5)))
}

export const reads = async (ctx: BenchContext): Promise<BenchResult> => {
  const started = now()
  const sizes = ctx.quick ? [2_000, 10_000] : [10_000, 60_000]
  const runs = ctx.quick ? 5 : 15
  const rows: Array<Row> = []
  const targets: Array<Target> = []
  const plans: Record<string, Record<string, ReadonlyArray<string>>> = {}
  const samples: Record<string, Array<number>> = {}
  for (const size of sizes) {
    const { repo, shown, edges } = await seed(size)
    try {
      const db = new Database(repo.db, { readonly: true })
      const statements = queries(db, shown, actor)
      for (const [name, list] of Object.entries(statements)) {
        const planOf = ({ sql, params }: Statement) => (db.query(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>)
        plans[`${name} @${size}`] = Object.fromEntries(list.map((s) => [s.sql, planOf(s).map((p) => p.detail)]))
        const scanning = list.flatMap((s) => scans(db, s, planOf(s)))
        if (scanning.length > 0) ctx.log(`reads: ${name} @${size} scans: ${scanning.join("; ")}`)
      }
      db.close()
      const cases = [
        { name: "task list --limit 50", argv: ["task", "list", "--limit", "50", "--json"], raw: statements.list, limit: 30 },
        { name: "task ready", argv: ["task", "ready", "--json"], raw: statements.ready, limit: 50 },
        { name: "task show", argv: ["task", "show", shown, "--json"], raw: statements.show, limit: 30 },
        // No target of its own at this size (issue 15 sets next's at 10,000 tasks, benchmarks/latency.ts).
        { name: "next", argv: ["next", "--json"], raw: statements.next, limit: undefined }
      ]
      for (let i = -1; i < runs; i++) {
        for (const c of cases) {
          const ours = run([groveBin, ...c.argv], repo.root)
          const raw = run([process.execPath, "-e", rawScript(c.raw), repo.db], repo.root)
          if (i < 0) {
            const env = JSON.parse(ours.stdout)
            if (!env.ok) throw new Error(`${c.name} failed: ${ours.stdout}`)
            continue
          }
          for (const [key, value] of [[c.name, ours.ms], [`${c.name} raw`, raw.ms], [`${c.name} cpu`, ours.cpu], [`${c.name} raw cpu`, raw.cpu]] as const) {
            ;(samples[`${key} @${size}`] ??= []).push(value)
          }
        }
      }
      for (const c of cases) {
        const ours = stat(samples[`${c.name} @${size}`]!)
        const scale = `${size.toLocaleString("en-US")} tasks, ${edges.toLocaleString("en-US")} edges`
        rows.push(row({ benchmark: "reads", case: `${c.name} (${scale})`, unit: "ms", better: "lower", ours, baseline: stat(samples[`${c.name} raw @${size}`]!) }))
        rows.push(row({ benchmark: "reads", case: `CPU time: ${c.name} (${scale})`, unit: "ms", better: "lower", ours: stat(samples[`${c.name} cpu @${size}`]!), baseline: stat(samples[`${c.name} raw cpu @${size}`]!) }))
        if (size === sizes.at(-1) && c.limit !== undefined) targets.push(target(`${c.name} at ${size.toLocaleString("en-US")} tasks: median whole process`, ours.median, "max", c.limit, "ms"))
      }
    } finally {
      repo.cleanup()
    }
  }
  ctx.log(`reads: ${rows.map((r) => `${r.case} ${r.ours.median.toFixed(0)} ms (raw ${r.baseline!.median.toFixed(0)})`).join("; ")}`)
  return { name: "reads", rows, targets, details: { runs, sizes, plans, samples }, seconds: (now() - started) / 1000 }
}
