/**
 * Shared benchmark plumbing: timing, medians and spread, the result shape and
 * table, temporary repositories (always removed), and grove runtimes bound to
 * a worktree.
 */
import { Database } from "bun:sqlite"
import { spawnSync } from "bun"
import { Effect, ManagedRuntime } from "effect"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { trackerLayer } from "../src/app/AppLayer.ts"
import { Migrator } from "../src/migrations/Migrator.ts"
import { migrations } from "../src/migrations/list.ts"
import { connectionPragmas } from "../src/storage/Sqlite.ts"
import { readStorageSettings } from "../src/app/Config.ts"

export const repoRoot = NodePath.resolve(import.meta.dir, "..")
/** The grove measured; BENCH_GROVE_BIN points at another checkout's bin/grove for before/after figures in one sitting. */
export const groveBin = process.env["BENCH_GROVE_BIN"] ?? NodePath.join(repoRoot, "bin", "grove")

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

// ---------------------------------------------------------------- temp dirs and repos

const temps = new Set<string>()

const removeAll = () => {
  for (const dir of temps) {
    try {
      NodeFs.rmSync(dir, { recursive: true, force: true })
    } catch {
      // best effort at exit
    }
  }
  temps.clear()
}
process.on("exit", removeAll)
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    removeAll()
    process.exit(130)
  })
}

export const tempDir = (label: string): { path: string; remove: () => void } => {
  const path = NodeFs.realpathSync(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), `grove-bench-${label}-`)))
  temps.add(path)
  return {
    path,
    remove: () => {
      NodeFs.rmSync(path, { recursive: true, force: true })
      temps.delete(path)
    }
  }
}

const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "Bench",
  GIT_AUTHOR_EMAIL: "bench@example.com",
  GIT_COMMITTER_NAME: "Bench",
  GIT_COMMITTER_EMAIL: "bench@example.com",
  GIT_CONFIG_NOSYSTEM: "1"
}

export const git = (cwd: string, ...args: Array<string>): string => {
  const r = spawnSync(["git", ...args], { cwd, env: gitEnv })
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed in ${cwd}: ${r.stderr.toString()}`)
  return r.stdout.toString().trim()
}

export interface BenchRepo {
  readonly root: string
  readonly base: string
  /** grove's database file (DESIGN.md section 3: under the git common dir). */
  readonly dbPath: string
  readonly addWorktree: (branch: string) => string
  readonly remove: () => void
}

/** A real git repository with one commit on `main`, in a temp dir removed at exit at the latest. */
export const makeRepo = (label: string): BenchRepo => {
  const dir = tempDir(label)
  const root = NodePath.join(dir.path, "repo")
  NodeFs.mkdirSync(root)
  git(root, "init", "-q", "-b", "main")
  git(root, "config", "user.email", "dev@example.com")
  git(root, "config", "user.name", "Dev")
  NodeFs.writeFileSync(NodePath.join(root, "README"), "bench\n")
  git(root, "add", "README")
  git(root, "commit", "-q", "-m", "initial")
  return {
    root,
    base: dir.path,
    dbPath: NodePath.join(root, ".git", "grove", "grove.db"),
    addWorktree: (branch) => {
      const path = NodePath.join(dir.path, branch.replace(/\//g, "-"))
      git(root, "worktree", "add", "-q", "-b", branch, path)
      return path
    },
    remove: dir.remove
  }
}

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

/** Removes a database file and its WAL and shared-memory files. */
export const removeDb = (path: string) => {
  for (const suffix of ["", "-wal", "-shm"]) NodeFs.rmSync(path + suffix, { force: true })
}

/** grove's environment variables, cleared so every run uses the repository's database and default settings. */
export const clearGroveEnv = () => {
  for (const k of ["GROVE_DB", "GROVE_ACTOR", "GROVE_SQLITE_DURABILITY", "GROVE_SQLITE_CACHE_MIB", "GROVE_BUSY_TIMEOUT_MS", "GROVE_PULL_BATCH"]) {
    delete process.env[k]
  }
}

/** A deterministic PRNG (mulberry32). */
export const seeded = (seed: number) => {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return { next, int: (n: number) => Math.floor(next() * n) }
}

/** Encourages a collection between measured runs so one run's garbage is not billed to the next. */
export const settle = () => {
  Bun.gc(true)
}
