/**
 * `npm run bench` runs every benchmark, prints a table of ours against the raw
 * bun:sqlite baseline and the targets, and writes benchmarks/results/last-run.json
 * (git ignores it), so running the suite never dirties the tree.
 *
 *   --quick        small sizes, few runs: the CI smoke test (exits 0 even when targets are missed;
 *                  writes benchmarks/results/quick.json, also ignored)
 *   --only a,b     run only these benchmarks (bulk, wal, pull, rebuild, cold, latency, reads, board, mcp, signing)
 *   --record       write the committed record, benchmarks/results/latest.json, on purpose
 *                  (then update the figures in benchmarks/README.md from it)
 *   --out FILE     write the JSON there instead
 *
 * The exit code is 1 only when a benchmark crashed.
 */
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { boardLoad } from "./board.ts"
import { bulkCreate } from "./bulkCreate.ts"
import { coldStart } from "./coldStart.ts"
import { latency } from "./latency.ts"
import { reads } from "./reads.ts"
import { neutralizeEnv } from "../test/support/env.ts"
import { type BenchContext, type BenchResult, bundleState, foreignBun, groveBin, repoRoot, resultsTable, targetsTable } from "./harness.ts"
import { mcpCall } from "./mcp.ts"
import { pull } from "./pull.ts"
import { rebuild } from "./rebuild.ts"
import { signing } from "./signing.ts"
import { wal } from "./wal.ts"

const argv = process.argv.slice(2)
const quick = argv.includes("--quick")
const flag = (name: string) => {
  const i = argv.indexOf(name)
  return i === -1 ? undefined : argv[i + 1]
}
const only = flag("--only")?.split(",").map((s) => s.trim())
const record = argv.includes("--record")
const out = flag("--out") ?? NodePath.join(import.meta.dir, "results", quick ? "quick.json" : record ? "latest.json" : "last-run.json")

const benchmarks: ReadonlyArray<{ key: string; run: (ctx: BenchContext) => Promise<BenchResult> }> = [
  { key: "bulk", run: bulkCreate },
  { key: "wal", run: wal },
  { key: "pull", run: pull },
  { key: "rebuild", run: rebuild },
  { key: "cold", run: coldStart },
  { key: "latency", run: latency },
  { key: "reads", run: reads },
  { key: "board", run: boardLoad },
  { key: "mcp", run: mcpCall },
  { key: "signing", run: signing }
]

const cpuModel = () => {
  try {
    return /model name\s*:\s*(.*)/.exec(NodeFs.readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? NodeOs.cpus()[0]?.model
  } catch {
    return NodeOs.cpus()[0]?.model
  }
}

const machine = {
  cpu: cpuModel(),
  nproc: NodeOs.availableParallelism(),
  memoryGiB: Math.round((NodeOs.totalmem() / 2 ** 30) * 10) / 10,
  os: `${NodeOs.type()} ${NodeOs.release()}`,
  bun: Bun.version,
  sqlite: (() => {
    const { Database } = require("bun:sqlite") as typeof import("bun:sqlite")
    const db = new Database(":memory:")
    const v = (db.query("SELECT sqlite_version() AS v").get() as { v: string }).v
    db.close()
    return v
  })()
}

/** Which code was measured: the commit, and whether src/ had uncommitted changes. */
const source = (() => {
  const git = (...args: Array<string>) => {
    const r = Bun.spawnSync(["git", ...args], { cwd: repoRoot })
    return r.exitCode === 0 ? r.stdout.toString().trim() : undefined
  }
  // A run from an exported tree (git archive) has no .git: BENCH_SOURCE_COMMIT names the commit it was exported from.
  const commit = git("rev-parse", "HEAD") ?? process.env["BENCH_SOURCE_COMMIT"] ?? "unknown"
  return { commit, srcDirty: (git("status", "--porcelain", "--", "src") ?? "") !== "", bundle: bundleState() }
})()
const load = () => NodeOs.loadavg().map((x) => Math.round(x * 100) / 100)

neutralizeEnv()
const started = performance.now()
const log = (line: string) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1)}s] ${line}\n`)
log(`grove benchmarks (${quick ? "quick" : "full"}) on ${machine.cpu}, ${machine.nproc} cpus, bun ${machine.bun}, sqlite ${machine.sqlite}`)
log(`commit ${source.commit.slice(0, 12)}${source.srcDirty ? " with uncommitted changes in src/" : ""}; load average ${load().join(" ")}`)
const otherBun = foreignBun()
if (otherBun !== undefined) log(`warning: ${groveBin} runs its own Bun binary (${otherBun}), not this run's (${process.execPath}); its start-up figures are not comparable with bare Bun's`)

const results: Array<BenchResult> = []
const crashes: Array<{ benchmark: string; error: string }> = []
for (const b of benchmarks) {
  if (only !== undefined && !only.includes(b.key)) continue
  log(`-- ${b.key}`)
  const loadBefore = load()
  try {
    const r = await b.run({ quick, log })
    results.push({ ...r, details: { ...r.details, loadAverage: { before: loadBefore, after: load() } } })
    log(`-- ${b.key} done in ${r.seconds.toFixed(1)} s`)
  } catch (e) {
    const error = e instanceof Error ? `${e.message}\n${e.stack ?? ""}` : String(e)
    crashes.push({ benchmark: b.key, error })
    log(`-- ${b.key} CRASHED: ${error}`)
  }
}

const totalSeconds = (performance.now() - started) / 1000
process.stdout.write(`\n${resultsTable(results)}\n\n${targetsTable(results)}\n\n`)
const missed = results.flatMap((r) => r.targets.filter((t) => !t.pass))
process.stdout.write(
  `${results.reduce((n, r) => n + r.targets.length, 0) - missed.length} targets met, ${missed.length} missed, ${crashes.length} crashed; ${totalSeconds.toFixed(1)} s (${quick ? "quick" : "full"} mode)\n`
)

NodeFs.mkdirSync(NodePath.dirname(out), { recursive: true })
/** Indented JSON with arrays of numbers (samples, series points) kept on one line each. */
const pretty = (value: unknown) =>
  JSON.stringify(value, null, 2).replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_, items: string) => `[${items.split(/,\s*/).join(", ")}]`)
NodeFs.writeFileSync(out, `${pretty({ mode: quick ? "quick" : "full", date: new Date().toISOString(), totalSeconds, machine, source, results, crashes })}\n`)
process.stdout.write(`wrote ${NodePath.relative(process.cwd(), out)}\n`)
process.exitCode = crashes.length > 0 ? 1 : 0
