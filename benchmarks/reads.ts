/**
 * Reads at scale: `task list` (first page of 50), `task ready` (first page)
 * and `task show`, each a whole `grove --json` process, on databases of
 * 10,000 and 60,000 tasks (quick: 2,000 and 10,000). The first sixth of the
 * tasks have no dependencies, a third of those are done; every other task
 * depends on two of them, so the larger database holds 100,000 edges and
 * `ready` must look past blocked tasks. Median of 15 runs (quick: 5),
 * interleaved with the baseline.
 *
 * Baseline: a `bun -e` process that runs the same SELECTs (page, total) with
 * bun:sqlite on the same file. Every query's EXPLAIN QUERY PLAN is recorded;
 * a plan step that scans a whole table (SCAN without an index) is reported.
 */
import { Database } from "bun:sqlite"
import { spawnSync } from "bun"
import { Effect } from "effect"
import { Bulk, type BulkLine } from "../src/tracker/Bulk.ts"
import { Tracker } from "../src/tracker/Tracker.ts"
import { makeRepo } from "../test/support/repo.ts"
import { type BenchContext, type BenchResult, groveBin, groveRuntime, now, row, type Row, stat, target, type Target } from "./harness.ts"

const selectTask = "SELECT 'task' AS kind, id, title, description, status, version, created_clock AS createdClock, updated_clock AS updatedClock, epic_id AS epicId, owner FROM tasks"
const targetStatus = `coalesce(
  (SELECT status FROM tasks WHERE d.target_kind = 'task' AND id = d.target_id),
  (SELECT status FROM subtasks WHERE d.target_kind = 'subtask' AND id = d.target_id))`
const ready = `status = 'todo' AND NOT EXISTS (SELECT 1 FROM dependencies d WHERE d.source_kind = 'task' AND d.source_id = t.id AND ${targetStatus} IS NOT 'done')`

/** The statements grove runs for each read, as the raw baseline runs them too. */
const queries = {
  list: [
    `${selectTask} WHERE +status IN ('todo', 'in_progress', 'blocked') ORDER BY created_clock, id LIMIT 51`,
    "SELECT count(*) AS n FROM tasks WHERE status IN ('todo', 'in_progress', 'blocked')"
  ],
  ready: [`${selectTask} t WHERE ${ready} ORDER BY created_clock, id LIMIT 51`, `SELECT count(*) AS n FROM tasks t WHERE ${ready}`],
  show: [
    `${selectTask} WHERE id = ?1`,
    "SELECT id FROM subtasks WHERE task_id = ?1 ORDER BY created_clock",
    "SELECT * FROM dependencies WHERE source_kind = 'task' AND source_id = ?1 ORDER BY created_clock",
    "SELECT * FROM dependencies WHERE target_kind = 'task' AND target_id = ?1 ORDER BY created_clock"
  ]
} as const

const rawScript = (statements: ReadonlyArray<string>) => `
import { Database } from "bun:sqlite"
const [path, id] = process.argv.slice(1)
const db = new Database(path, { readonly: true })
const out = ${JSON.stringify(statements)}.map((sql) => db.query(sql).all(...(sql.includes("?1") ? [id] : [])))
console.log(JSON.stringify({ ok: true, data: out }))
`

const run = (cmd: Array<string>, cwd: string) => {
  const start = now()
  const r = spawnSync(cmd, { cwd, env: process.env })
  const ms = now() - start
  if (r.exitCode !== 0) throw new Error(`${cmd.slice(0, 5).join(" ")} exited ${r.exitCode}: ${r.stdout.toString().slice(0, 300)}${r.stderr.toString().slice(0, 300)}`)
  return { ms, stdout: r.stdout.toString() }
}

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
const scans = (plan: ReadonlyArray<{ detail: string }>) => plan.map((p) => p.detail).filter((d) => /^SCAN /.test(d) && !/USING (COVERING )?INDEX/.test(d))

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
      for (const [name, statements] of Object.entries(queries)) {
        plans[`${name} @${size}`] = Object.fromEntries(statements.map((sql) => [sql, (db.query(`EXPLAIN QUERY PLAN ${sql}`).all(...(sql.includes("?1") ? [shown] : [])) as Array<{ detail: string }>).map((p) => p.detail)]))
        const scanning = statements.flatMap((sql) => scans(db.query(`EXPLAIN QUERY PLAN ${sql}`).all(...(sql.includes("?1") ? [shown] : [])) as Array<{ detail: string }>))
        if (scanning.length > 0) ctx.log(`reads: ${name} @${size} scans: ${scanning.join("; ")}`)
      }
      db.close()
      const cases = [
        { name: "task list --limit 50", argv: ["task", "list", "--limit", "50", "--json"], raw: queries.list, limit: 30 },
        { name: "task ready", argv: ["task", "ready", "--json"], raw: queries.ready, limit: 50 },
        { name: "task show", argv: ["task", "show", shown, "--json"], raw: queries.show, limit: 30 }
      ]
      for (let i = -1; i < runs; i++) {
        for (const c of cases) {
          const ours = run([process.execPath, groveBin, ...c.argv], repo.root)
          const raw = run([process.execPath, "-e", rawScript(c.raw), repo.db, shown], repo.root)
          if (i < 0) {
            const env = JSON.parse(ours.stdout)
            if (!env.ok) throw new Error(`${c.name} failed: ${ours.stdout}`)
            continue
          }
          ;(samples[`${c.name} @${size}`] ??= []).push(ours.ms)
          ;(samples[`${c.name} raw @${size}`] ??= []).push(raw.ms)
        }
      }
      for (const c of cases) {
        const ours = stat(samples[`${c.name} @${size}`]!)
        rows.push(row({ benchmark: "reads", case: `${c.name} (${size.toLocaleString("en-US")} tasks, ${edges.toLocaleString("en-US")} edges)`, unit: "ms", better: "lower", ours, baseline: stat(samples[`${c.name} raw @${size}`]!) }))
        if (size === sizes.at(-1)) targets.push(target(`${c.name} at ${size.toLocaleString("en-US")} tasks: median whole process`, ours.median, "max", c.limit, "ms"))
      }
    } finally {
      repo.cleanup()
    }
  }
  ctx.log(`reads: ${rows.map((r) => `${r.case} ${r.ours.median.toFixed(0)} ms (raw ${r.baseline!.median.toFixed(0)})`).join("; ")}`)
  return { name: "reads", rows, targets, details: { runs, sizes, plans, samples }, seconds: (now() - started) / 1000 }
}
