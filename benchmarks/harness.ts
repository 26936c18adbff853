/**
 * Shared benchmark plumbing: timing, medians and spread, the result shape and
 * table, and grove runtimes bound to a worktree. Repositories, temp dirs, the
 * neutral environment and the seeded PRNG are the tests' own (test/support).
 */
import { Database } from "bun:sqlite"
import { Effect, ManagedRuntime } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { trackerLayer } from "../src/app/AppLayer.ts"
import { Migrator } from "../src/migrations/Migrator.ts"
import { migrations } from "../src/migrations/list.ts"
import { connectionPragmas } from "../src/storage/Sqlite.ts"
import { readStorageSettings } from "../src/app/Config.ts"

export const repoRoot = NodePath.resolve(import.meta.dir, "..")
/** The grove measured; BENCH_GROVE_BIN points at another checkout's bin/grove for before/after figures in one sitting. */
export const groveBin = process.env["BENCH_GROVE_BIN"] ?? NodePath.join(repoRoot, "bin", "grove")

/**
 * The Bun binary bin/grove runs when it is not the one running the benchmark (and bare Bun), else undefined.
 * Another checkout's own copy of the same Bun measured about 0.2x of bare Bun slower even in `--version`
 * (docs/decisions.md, "Start-up"): a fair before/after links it to this one's.
 */
export const foreignBun = (): string | undefined => {
  const real = (path: string) => {
    try {
      return NodeFs.realpathSync(path)
    } catch {
      return undefined
    }
  }
  const own = real(NodePath.join(NodePath.dirname(real(groveBin) ?? groveBin), "..", "node_modules", ".bin", "bun"))
  return own !== undefined && own !== real(process.execPath) ? own : undefined
}

/** Whether bin/grove will run the bundle: dist/grove.js newer than every source it was built from (dist/sources.json). */
export const bundleState = () => {
  const bundle = NodePath.join(repoRoot, "dist", "grove.js")
  const exists = NodeFs.existsSync(bundle)
  if (!exists) return { exists, fresh: false }
  const built = NodeFs.statSync(bundle).mtimeMs
  try {
    const sources = JSON.parse(NodeFs.readFileSync(NodePath.join(repoRoot, "dist", "sources.json"), "utf8")) as Array<string>
    return { exists, fresh: sources.every((s) => NodeFs.statSync(NodePath.join(repoRoot, s)).mtimeMs <= built) }
  } catch {
    return { exists, fresh: false }
  }
}

// ---------------------------------------------------------------- timing

export const now = () => performance.now()

/** Runs `f` and returns its value with the elapsed milliseconds. */
export const timed = async <A>(f: () => A | Promise<A>): Promise<{ value: A; ms: number }> => {
  const start = now()
  const value = await f()
  return { value, ms: now() - start }
}

export const median = (xs: ReadonlyArray<number>): number => {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Nearest-rank percentile (p in 0..100). */
export const percentile = (xs: ReadonlyArray<number>, p: number): number => {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!
}

/** Median, min, max and the spread (max - min) relative to the median, of several runs. */
export interface Stat {
  readonly median: number
  readonly min: number
  readonly max: number
  /** (max - min) / median, as a fraction. */
  readonly spread: number
  readonly runs: ReadonlyArray<number>
}

export const stat = (runs: ReadonlyArray<number>): Stat => {
  const m = median(runs)
  const min = Math.min(...runs)
  const max = Math.max(...runs)
  return { median: m, min, max, spread: m === 0 ? 0 : (max - min) / m, runs: runs.map((r) => round(r, 3)) }
}

export const round = (x: number, digits = 1) => {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

// ---------------------------------------------------------------- results

export interface Target {
  readonly description: string
  /** The measured value the target is about. */
  readonly value: number
  readonly limit: number
  /** "min": value must be >= limit; "max": value must be <= limit; "eq": exactly the limit. */
  readonly kind: "min" | "max" | "eq"
  readonly unit: string
  readonly pass: boolean
  /** value / limit, so "how far off" reads directly. */
  readonly ratio: number
}

export const target = (description: string, value: number, kind: "min" | "max" | "eq", limit: number, unit: string): Target => ({
  description,
  value,
  limit,
  kind,
  unit,
  pass: kind === "min" ? value >= limit : kind === "max" ? value <= limit : value === limit,
  ratio: limit === 0 ? NaN : value / limit
})

/** One row of the printed table: a measurement of ours against its raw baseline. */
export interface Row {
  readonly benchmark: string
  readonly case: string
  readonly unit: string
  /** Higher is better ("rate") or lower is better ("time"). */
  readonly better: "higher" | "lower"
  readonly ours: Stat
  readonly baseline?: Stat
  /** ours / baseline of the medians (for rates: ours' rate as a fraction of the baseline's). */
  readonly ratio?: number
  readonly note?: string
}

export const row = (r: Omit<Row, "ratio">): Row =>
  r.baseline === undefined ? r : { ...r, ratio: r.ours.median / r.baseline.median }

export interface BenchResult {
  readonly name: string
  readonly rows: ReadonlyArray<Row>
  readonly targets: ReadonlyArray<Target>
  /** Anything else worth keeping: series, splits, scenario parameters. */
  readonly details: Record<string, unknown>
  readonly seconds: number
}

export interface BenchContext {
  readonly quick: boolean
  readonly log: (line: string) => void
}

const fmt = (x: number, unit: string) => {
  if (!Number.isFinite(x)) return String(x)
  if (unit === "x") return x.toFixed(3)
  if (Number.isInteger(x)) return x.toLocaleString("en-US")
  if (unit === "ms") return x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0)
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString("en-US")
  return x < 10 ? x.toFixed(2) : x.toFixed(1)
}

const pad = (s: string, n: number, right = false) => (right ? s.padStart(n) : s.padEnd(n))

/** A plain-text table with aligned columns. */
export const table = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>, rightAligned: ReadonlyArray<number> = []) => {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => pad(c, widths[i]!, rightAligned.includes(i))).join("  ").trimEnd()
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n")
}

export const resultsTable = (results: ReadonlyArray<BenchResult>) =>
  table(
    ["benchmark", "case", "ours (median)", "spread", "baseline (median)", "spread", "ours/baseline", "unit"],
    results.flatMap((r) =>
      r.rows.map((x) => [
        x.benchmark,
        x.case,
        fmt(x.ours.median, x.unit),
        `${(x.ours.spread * 100).toFixed(0)}%`,
        x.baseline ? fmt(x.baseline.median, x.unit) : "-",
        x.baseline ? `${(x.baseline.spread * 100).toFixed(0)}%` : "-",
        x.ratio === undefined ? "-" : x.ratio.toFixed(2),
        x.unit
      ])
    ),
    [2, 3, 4, 5, 6]
  )

export const targetsTable = (results: ReadonlyArray<BenchResult>) =>
  table(
    ["benchmark", "target", "measured", "limit", "result"],
    results.flatMap((r) =>
      r.targets.map((t) => [
        r.name,
        t.description,
        `${fmt(t.value, t.unit)} ${t.unit}`,
        `${t.kind === "min" ? ">=" : t.kind === "max" ? "<=" : "=="} ${fmt(t.limit, t.unit)} ${t.unit}`,
        t.pass ? "PASS" : `MISS (${(t.ratio * 100).toFixed(0)}% of limit)`
      ])
    ),
    [2, 3]
  )

// ---------------------------------------------------------------- grove in-process

const makeRuntimeRaw = (cwd: string) => ManagedRuntime.make(trackerLayer(cwd))
/** grove's services for the worktree at `cwd`, built once (one connection, git context resolved once). */
export type GroveRuntime = ReturnType<typeof makeRuntimeRaw>

/** A runtime for `cwd` with the schema brought up to date, exactly as every command starts. */
export const groveRuntime = async (cwd: string) => {
  const rt = makeRuntimeRaw(cwd)
  await rt.runPromise(Effect.flatMap(Migrator, (m) => m.ensureCurrent))
  return rt
}

/** The PRAGMAs grove sets on every connection, with the default settings. */
export const grovePragmas = () => connectionPragmas(Effect.runSync(readStorageSettings({})))

/** Opens a raw bun:sqlite connection configured exactly as grove configures its own. */
export const openRaw = (path: string): Database => {
  NodeFs.mkdirSync(NodePath.dirname(path), { recursive: true })
  const db = new Database(path, { create: true, readwrite: true })
  for (const p of grovePragmas()) db.run(p)
  return db
}

/** A fresh database file with grove's schema, created by grove's own migration scripts (same tables and indexes). */
export const migratedRaw = (path: string): Database => {
  const db = openRaw(path)
  db.transaction(() => {
    for (const m of migrations) db.run(m.up)
  }).immediate()
  return db
}

/** Encourages a collection between measured runs so one run's garbage is not billed to the next. */
export const settle = () => {
  Bun.gc(true)
}
