/**
 * 5. Cold start: `grove task list --json` (main worktree) and `grove sync
 * status --json` (feat worktree, against the default branch main) as whole
 * processes on a database of 10,000 tasks, median of >= 10 runs each. The
 * baseline is a `bun -e` process that opens the same file with bun:sqlite and
 * runs the same SELECTs (and prints the task list as JSON), given the path.
 *
 * The processes run bin/grove as a program, as a user does (its sh line sets
 * the engine's JIT thresholds, docs/decisions.md "Start-up"), which runs the bundle `npm run build` writes
 * (dist/grove.js) when it is newer than every source file and src/main.ts
 * otherwise; the result records which one ran.
 *
 * Splits, to show where a grove process spends its time: a bare `bun -e 0`,
 * `grove --version` (startup, module graph, CLI parsing; no database), one
 * `git rev-parse` like the one grove runs, the handler time grove reports
 * itself (meta.elapsedMs: building the services, opening the database, the
 * query, the JSON), and `task list` run from the sources (bun src/main.ts).
 */
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
  repoRoot,
  row,
  type Row,
  stat,
  target,
  type Target
} from "./harness.ts"
import { makeRepo } from "../test/support/repo.ts"

const taskListScript = `
import { Database } from "bun:sqlite"
const db = new Database(process.argv[1], { readonly: true })
const rows = db.query("SELECT 'task' AS kind, id, title, description, status, version, created_clock AS createdClock, updated_clock AS updatedClock, epic_id AS epicId, owner FROM tasks ORDER BY created_clock").all()
process.stdout.write(JSON.stringify({ ok: true, command: "task list", data: rows }) + "\\n")
`

/** What `sync status` reads for feat against main: streams, knowledge, newest seqs, the missing ranges' counts, pending conflicts. */
export const syncStatusScript = `
import { Database } from "bun:sqlite"
const [path, worktree] = process.argv.slice(1)
const db = new Database(path, { readonly: true })
const id = (name) => db.query("SELECT id FROM streams WHERE name = ?").get(name)?.id
const frontier = (s) => {
  const k = db.query("SELECT frontier_id FROM stream_knowledge WHERE stream_id = ?").get(s)
  return k ? JSON.parse(db.query("SELECT vector FROM frontiers WHERE id = ?").get(k.frontier_id).vector) : {}
}
const knows = (s) => ({ ...frontier(s), [s]: db.query("SELECT coalesce(max(seq), 0) AS seq FROM events WHERE stream_id = ?").get(s).seq })
const self = id("feat"), src = id("main")
const a = knows(self), b = knows(src)
const count = (self, selfKnows, other) => Object.entries(other).filter(([s, hi]) => Number(s) !== self && hi > (selfKnows[s] ?? 0))
  .reduce((n, [s, hi]) => n + db.query("SELECT count(*) AS n FROM events WHERE stream_id = ? AND seq > ? AND seq <= ?").get(Number(s), selfKnows[s] ?? 0, hi).n, 0)
const data = { behind: count(self, a, b), ahead: count(src, b, a),
  pendingConflicts: db.query("SELECT count(*) AS n FROM conflicts WHERE worktree = ? AND stream_id = ? AND status = 'pending'").get(worktree, self).n }
process.stdout.write(JSON.stringify({ ok: true, command: "sync status", data }) + "\\n")
`

const spawnTimed = (cmd: Array<string>, cwd: string) => {
  const start = now()
  const r = spawnSync(cmd, { cwd, env: process.env })
  const ms = now() - start
  if (r.exitCode !== 0) throw new Error(`${cmd.slice(0, 4).join(" ")} exited ${r.exitCode}: ${r.stderr.toString()}`)
  return { ms, stdout: r.stdout.toString() }
}

export const coldStart = async (ctx: BenchContext): Promise<BenchResult> => {
  const started = now()
  const runs = ctx.quick ? 10 : 20
  const splitRuns = ctx.quick ? 5 : 10
  const bundle = bundleState()
  if (!bundle.fresh) ctx.log(`cold start: dist/grove.js is ${bundle.exists ? "older than src/" : "missing"}, so bin/grove runs the sources (npm run build makes the bundle)`)
  const repo = makeRepo("bench-cold")
  try {
    const feat = repo.addWorktree("feat")
    const main = await groveRuntime(repo.root)
    try {
      const epic = (await main.runPromise(Effect.flatMap(Tracker, (t) => t.create("epic", undefined, { title: "bench" })))).id
      const lines = Array.from({ length: 10_000 }, (_, i): BulkLine => ({ line: i + 1, value: { title: `task ${i + 1}`, description: `what task ${i + 1} is about` } }))
      await main.runPromise(Effect.flatMap(Bulk, (b) => b.createMany("task", epic, lines)))
    } finally {
      await main.dispose()
    }
    const featRt = await groveRuntime(feat)
    try {
      const epic = (await featRt.runPromise(Effect.flatMap(Tracker, (t) => t.create("epic", undefined, { title: "feat work" })))).id
      const lines = Array.from({ length: 100 }, (_, i): BulkLine => ({ line: i + 1, value: { title: `feat task ${i + 1}` } }))
      await featRt.runPromise(Effect.flatMap(Bulk, (b) => b.createMany("task", epic, lines)))
    } finally {
      await featRt.dispose()
    }

    const bun = process.execPath
    const samples: Record<string, Array<number>> = {}
    const add = (k: string, v: number) => (samples[k] ??= []).push(v)
    const handler: Record<string, Array<number>> = {}
    const check = (stdout: string, command: string) => {
      const env = JSON.parse(stdout) as { ok: boolean; data: any; meta?: { elapsedMs: number } }
      if (!env.ok) throw new Error(`${command} failed: ${stdout}`)
      if (command.startsWith("task list") && env.data.length !== 10_100) throw new Error(`task list returned ${env.data.length} tasks, expected 10100`)
      if (command === "sync status" && !(env.data.behind > 0)) throw new Error(`sync status reported ${JSON.stringify(env.data)}`)
      if (env.meta) (handler[command] ??= []).push(env.meta.elapsedMs)
    }
    // One untimed round: the OS page cache holds bun, the sources and the database afterwards, as on a working machine.
    for (let i = -1; i < runs; i++) {
      const list = spawnTimed([groveBin, "task", "list", "--all", "--json"], repo.root)
      const rawList = spawnTimed([bun, "-e", taskListScript, repo.db], repo.root)
      const status = spawnTimed([groveBin, "sync", "status", "--json"], feat)
      const rawStatus = spawnTimed([bun, "-e", syncStatusScript, repo.db, feat], feat)
      if (i < 0 || i < splitRuns) {
        const sources = spawnTimed([bun, NodePath.join(repoRoot, "src", "main.ts"), "task", "list", "--all", "--json"], repo.root)
        const bare = spawnTimed([bun, "-e", "0"], repo.root)
        const version = spawnTimed([groveBin, "--version"], repo.root)
        const gitRevParse = spawnTimed(["git", "rev-parse", "--path-format=absolute", "--git-common-dir", "--git-dir", "--show-toplevel", "HEAD"], repo.root)
        if (i >= 0) {
          check(sources.stdout, "task list (sources)")
          add("sources", sources.ms)
          add("bare", bare.ms)
          add("version", version.ms)
          add("git", gitRevParse.ms)
        }
      }
      if (i < 0) continue
      check(list.stdout, "task list")
      check(rawList.stdout, "task list")
      check(status.stdout, "sync status")
      check(rawStatus.stdout, "sync status")
      add("list", list.ms)
      add("rawList", rawList.ms)
      add("status", status.ms)
      add("rawStatus", rawStatus.ms)
    }
    const s = (k: string) => stat(samples[k]!)
    const rows: Array<Row> = [
      row({ benchmark: "cold start", case: `grove task list --all --json (10,100 tasks; ${bundle.fresh ? "bundle" : "sources"})`, unit: "ms", better: "lower", ours: s("list"), baseline: s("rawList") }),
      row({ benchmark: "cold start", case: "  of which handler (meta.elapsedMs)", unit: "ms", better: "lower", ours: stat(handler["task list"]!) }),
      row({ benchmark: "cold start", case: `grove sync status --json (${bundle.fresh ? "bundle" : "sources"})`, unit: "ms", better: "lower", ours: s("status"), baseline: s("rawStatus") }),
      row({ benchmark: "cold start", case: "  of which handler (meta.elapsedMs)", unit: "ms", better: "lower", ours: stat(handler["sync status"]!) }),
      row({ benchmark: "cold start", case: "split: bun -e 0 (bare process)", unit: "ms", better: "lower", ours: s("bare") }),
      row({ benchmark: "cold start", case: "split: grove --version (no database)", unit: "ms", better: "lower", ours: s("version") }),
      row({ benchmark: "cold start", case: "split: one git rev-parse", unit: "ms", better: "lower", ours: s("git") }),
      row({ benchmark: "cold start", case: "split: task list from sources (bun src/main.ts)", unit: "ms", better: "lower", ours: s("sources"), baseline: s("rawList") })
    ]
    ctx.log(`cold start: task list ${rows[0]!.ours.median.toFixed(0)} ms (raw ${rows[0]!.baseline!.median.toFixed(0)}), sync status ${rows[2]!.ours.median.toFixed(0)} ms (raw ${rows[2]!.baseline!.median.toFixed(0)}), bare bun ${rows[4]!.ours.median.toFixed(0)} ms, --version ${rows[5]!.ours.median.toFixed(0)} ms, from sources ${rows[7]!.ours.median.toFixed(0)} ms`)
    const targets: Array<Target> = [
      target("grove task list --json: median", rows[0]!.ours.median, "max", 60, "ms"),
      target("grove sync status --json: median", rows[2]!.ours.median, "max", 60, "ms")
    ]
    return { name: "cold start", rows, targets, details: { runs, bundle, samples, handler }, seconds: (now() - started) / 1000 }
  } finally {
    repo.cleanup()
  }
}
