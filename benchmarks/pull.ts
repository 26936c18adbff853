/**
 * 3. Pull with conflict detection: `sync pull` of N incoming events from
 * `feat` into `main`, whose own history is N events, 10% of the incoming
 * events writing fields main also changed concurrently (N = 100,000; 10,000
 * for the scaling check; quick: 2,000 and 20,000).
 *
 * The scenario, in a real repository with two worktrees sharing the database:
 *  1. main: an epic and N/2 base tasks (Bulk.createMany); feat pulls main, so
 *     its later writes carry a frontier that knows the base tasks.
 *  2. Then, interleaved in 20 rounds (each side one transaction per round
 *     through Writer.write, which appends, projects and learns like every
 *     tracker command):
 *     - main: title of base tasks [0, N/10), description of [N/10, N/2)
 *     - feat: title of base tasks [0, N/10)   <- the N/10 planted conflicts
 *             owner of base tasks [N/10, N/2)  (fields main never wrote)
 *             N/2 new tasks (Bulk.createMany)
 *     so main has N + 1 events and feat N, all concurrent with main's updates.
 * The database is snapshotted after the build; every run restores it, opens
 * main's services and times Sync.pull("feat"). The baseline reads the same
 * N source rows in seq order with raw bun:sqlite and parses their payloads.
 */
import { Effect } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { draft, type EventDraft } from "../src/events/Event.ts"
import { GitContext } from "../src/events/GitContext.ts"
import { Sync } from "../src/sync/Sync.ts"
import { Writer } from "../src/write/Writer.ts"
import { Bulk, type BulkLine } from "../src/tracker/Bulk.ts"
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
import { removeDb } from "../test/support/db.ts"
import { makeRepo, type TestRepo } from "../test/support/repo.ts"

const rounds = 20

const writeDrafts = (rt: GroveRuntime, drafts: ReadonlyArray<EventDraft>) =>
  rt.runPromise(Effect.flatMap(Writer, (w) => w.write((emit) => emit(drafts))))

const createMany = (rt: GroveRuntime, epic: string, titles: ReadonlyArray<string>) =>
  rt.runPromise(
    Effect.flatMap(Bulk, (b) => b.createMany("task", epic, titles.map((title, i): BulkLine => ({ line: i + 1, value: { title } }))))
  )

const slice = (n: number, r: number) => [Math.floor((n * r) / rounds), Math.floor((n * (r + 1)) / rounds)] as const

export interface Scenario {
  readonly repo: TestRepo
  readonly snapshot: string
  readonly n: number
  readonly planted: number
  readonly mainEvents: number
  readonly featEvents: number
  readonly buildSeconds: number
}

export const build = async (n: number): Promise<Scenario> => {
  const started = now()
  const repo = makeRepo(`bench-pull-${n}`)
  const featPath = repo.addWorktree("feat")
  const main = await groveRuntime(repo.root)
  const feat = await groveRuntime(featPath)
  try {
    const epic = (await main.runPromise(Effect.flatMap(Tracker, (t) => t.create("epic", undefined, { title: "bench" })))).id
    const base = (await createMany(main, epic, Array.from({ length: n / 2 }, (_, i) => `base ${i}`))).ids
    await feat.runPromise(Effect.flatMap(Sync, (s) => s.pull("main")))
    const conflicting = n / 10
    for (let r = 0; r < rounds; r++) {
      const [c0, c1] = slice(conflicting, r)
      const [o0, o1] = slice(n / 2 - conflicting, r).map((x) => x + conflicting)
      const [f0, f1] = slice(n / 2, r)
      const task = (i: number) => ({ kind: "task" as const, id: base[i]! })
      const mainDrafts: Array<EventDraft> = []
      for (let i = c0; i < c1; i++) mainDrafts.push(draft("task.updated", task(i), { title: `main title ${i}` }))
      for (let i = o0!; i < o1!; i++) mainDrafts.push(draft("task.updated", task(i), { description: `main description ${i}` }))
      await writeDrafts(main, mainDrafts)
      const featDrafts: Array<EventDraft> = []
      for (let i = c0; i < c1; i++) featDrafts.push(draft("task.updated", task(i), { title: `feat title ${i}` }))
      for (let i = o0!; i < o1!; i++) featDrafts.push(draft("task.updated", task(i), { owner: `feat-owner-${i % 7}` }))
      await writeDrafts(feat, featDrafts)
      await createMany(feat, epic, Array.from({ length: f1 - f0 }, (_, i) => `feat task ${f0 + i}`))
    }
  } finally {
    await main.dispose()
    await feat.dispose()
  }
  const db = openRaw(repo.db)
  let counts: Record<string, number>
  try {
    counts = Object.fromEntries(
      // Changes only: feat's pull of main left a knowledge event (stream.learnt), which the pull learns too.
      (db.query(
        "SELECT s.name AS name, count(*) AS n FROM events e JOIN streams s ON s.id = e.stream_id WHERE e.op <> 'stream.learnt' GROUP BY s.name"
      ).all() as Array<{ name: string; n: number }>)
        .map((r) => [r.name, r.n])
    )
    db.run("PRAGMA wal_checkpoint(TRUNCATE)")
  } finally {
    db.close()
  }
  if (counts["feat"] !== n || counts["main"] !== n + 1) throw new Error(`pull scenario has ${JSON.stringify(counts)} events, expected feat ${n}, main ${n + 1}`)
  const snapshot = NodePath.join(repo.base, "snapshot.db")
  NodeFs.copyFileSync(repo.db, snapshot)
  return { repo, snapshot, n, planted: n / 10, mainEvents: counts["main"]!, featEvents: counts["feat"]!, buildSeconds: (now() - started) / 1000 }
}

export const restore = (s: Scenario) => {
  removeDb(s.repo.db)
  NodeFs.copyFileSync(s.snapshot, s.repo.db)
}

/** grove: Sync.pull("feat") in main's worktree, services built and git context resolved beforehand. */
const groveRun = async (s: Scenario) => {
  restore(s)
  const rt = await groveRuntime(s.repo.root)
  try {
    await rt.runPromise(Effect.flatMap(GitContext, (g) => g.resolve))
    settle()
    const start = now()
    const report = await rt.runPromise(Effect.flatMap(Sync, (sync) => sync.pull("feat")))
    const ms = now() - start
    if (report.scanned !== s.n) throw new Error(`pull scanned ${report.scanned}, expected ${s.n}`)
    return { ms, report }
  } finally {
    await rt.dispose()
  }
}

/** The baseline: the same N source rows in seq order, a page of 2,000 at a time, payloads parsed. */
const rawRun = (s: Scenario) => {
  restore(s)
  const db = openRaw(s.repo.db)
  try {
    const stream = (db.query("SELECT id FROM streams WHERE name = 'feat'").get() as { id: number }).id
    const page = db.query(
      "SELECT seq, id, stream_id, entity_kind, entity_id, op, payload, clock, if_version, frontier_id FROM events WHERE stream_id = ? AND seq > ? ORDER BY seq LIMIT 2000"
    )
    settle()
    const start = now()
    let after = 0
    let scanned = 0
    let fields = 0
    db.transaction(() => {
      for (;;) {
        const rows = page.all(stream, after) as Array<{ seq: number; op: string; payload: string }>
        if (rows.length === 0) break
        for (const r of rows) fields += Object.keys(JSON.parse(r.payload) as object).length
        // As grove's report: knowledge events are read, not counted.
        scanned += rows.filter((r) => r.op !== "stream.learnt").length
        after = rows[rows.length - 1]!.seq
      }
    }).deferred()
    const ms = now() - start
    if (scanned !== s.n || fields === 0) throw new Error(`baseline scanned ${scanned}, expected ${s.n}`)
    return { ms }
  } finally {
    db.close()
  }
}

export const pull = async (ctx: BenchContext): Promise<BenchResult> => {
  const started = now()
  const sizes = ctx.quick ? [{ n: 2_000, runs: 2 }, { n: 20_000, runs: 2 }] : [{ n: 10_000, runs: 5 }, { n: 100_000, runs: 3 }]
  const rows: Array<Row> = []
  const targets: Array<Target> = []
  const details: Record<string, unknown> = {}
  const rates = new Map<number, number>()
  for (const { n, runs } of sizes) {
    const s = await build(n)
    ctx.log(`pull ${n}: scenario built in ${s.buildSeconds.toFixed(1)} s (main ${s.mainEvents} events, feat ${s.featEvents}, ${s.planted} planted conflicts)`)
    try {
      await groveRun(s) // untimed: warms the JIT and the page cache
      const grove: Array<number> = []
      const base: Array<number> = []
      let last: Awaited<ReturnType<typeof groveRun>>["report"] | undefined
      const counts: Array<number> = []
      for (let i = 0; i < runs; i++) {
        const g = await groveRun(s)
        last = g.report
        counts.push(g.report.conflictsCreated)
        grove.push(n / (g.ms / 1000))
        base.push(n / (rawRun(s).ms / 1000))
      }
      const x = row({ benchmark: "pull", case: `${n.toLocaleString("en-US")} incoming vs ${n.toLocaleString("en-US")} local`, unit: "events/s", better: "higher", ours: stat(grove), baseline: stat(base) })
      rows.push(x)
      rates.set(n, x.ours.median)
      ctx.log(`pull ${n}: ${Math.round(x.ours.median)} events/s (baseline scan ${Math.round(x.baseline!.median)}), ${last!.conflictsCreated} conflicts in ${last!.batches} batches`)
      targets.push(target(`${n} incoming: pull rate`, x.ours.median, "min", 100_000, "events/s"))
      targets.push(target(`${n} incoming: conflicts created (planted ${s.planted})`, counts.find((c) => c !== s.planted) ?? s.planted, "eq", s.planted, "conflicts"))
      details[String(n)] = { buildSeconds: s.buildSeconds, planted: s.planted, mainEvents: s.mainEvents, featEvents: s.featEvents, report: last }
    } finally {
      s.repo.cleanup()
    }
  }
  const [small, large] = sizes
  if (small && large) targets.push(target(`scaling: rate at ${large.n} / rate at ${small.n}`, rates.get(large.n)! / rates.get(small.n)!, "min", 0.8, "x"))
  return { name: "pull", rows, targets, details, seconds: (now() - started) / 1000 }
}
