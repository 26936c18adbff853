/**
 * The pull benchmark's scenario (pull.ts), timed for this checkout and another
 * one, interleaved on one shared machine, each run in a fresh process:
 *
 *   bun benchmarks/pullAgainst.ts --other /path/to/other/checkout [--n 100000] [--rounds 3] [--runs 3]
 *
 * The scenario is built once, by this checkout. Each round runs `--runs`
 * timed pulls (after one untimed) in each checkout, the database restored
 * before each. Per run it prints the wall time of `Sync.pull("feat")`, the
 * process's CPU time over it and the bytes it wrote (`wchar` of
 * /proc/self/io: the WAL, and the checkpoint's copy into the database), and
 * after each checkout's last run a digest of the sync tables, so two
 * checkouts that learn alike print the same heads, conflicts and floors
 * (events too, at the same GROVE_PULL_BATCH).
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { args, type Built, here, opt } from "./against.ts"

/** One checkout's runs against the built scenario, in this process (the child). */
const child = async (root: string, built: Built, n: number, runs: number) => {
  const { Effect } = await import(NodePath.join(root, "node_modules/effect/dist/esm/index.js"))
  const { groveRuntime } = await import(NodePath.join(root, "benchmarks/harness.ts"))
  const { Sync } = await import(NodePath.join(root, "src/sync/Sync.ts"))
  const { GitContext } = await import(NodePath.join(root, "src/events/GitContext.ts"))
  const { Database } = await import("bun:sqlite")
  const written = () => Number(/wchar: (\d+)/.exec(NodeFs.readFileSync("/proc/self/io", "utf8"))![1])
  const runsOut: Array<{ ms: number; cpuMs: number; writtenMiB: number }> = []
  for (let i = 0; i <= runs; i++) {
    for (const suffix of ["", "-wal", "-shm"]) NodeFs.rmSync(built.db + suffix, { force: true })
    NodeFs.copyFileSync(built.snapshot, built.db)
    const rt = await groveRuntime(built.root)
    await rt.runPromise(Effect.flatMap(GitContext, (g: { resolve: unknown }) => g.resolve))
    Bun.gc(true)
    const w0 = written()
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    const report = await rt.runPromise(Effect.flatMap(Sync, (s: { pull: (from: string) => unknown }) => s.pull("feat")))
    const ms = performance.now() - t0
    const cpu = process.cpuUsage(c0)
    const w = written() - w0
    await rt.dispose()
    if ((report as { scanned: number }).scanned !== n) throw new Error(`pull scanned ${(report as { scanned: number }).scanned}, expected ${n}`)
    if (i > 0) runsOut.push({ ms, cpuMs: (cpu.user + cpu.system) / 1000, writtenMiB: w / 1048576 })
  }
  const db = new Database(built.db, { readonly: true })
  const digest = (sql: string) => Bun.hash(JSON.stringify(db.query(sql).all())).toString(16)
  const tables = {
    heads: digest("SELECT stream_id, entity_id, field, event_seq FROM heads ORDER BY 1, 2, 3, 4"),
    conflicts: digest(
      "SELECT id, worktree, stream_id, entity_kind, entity_id, field, base, base_seq, ours, ours_seq, theirs, theirs_seq, sides, status, settled_seq FROM conflicts ORDER BY id"
    ),
    floors: digest("SELECT * FROM if_version_floors ORDER BY 1, 2, 3"),
    events: digest("SELECT seq, stream_id, entity_kind, entity_id, op, payload, frontier_id FROM events ORDER BY seq")
  }
  db.close()
  console.log(JSON.stringify({ runs: runsOut, tables }))
}

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const main = async () => {
  const other = opt("--other")
  if (other === undefined) throw new Error("usage: pullAgainst.ts --other CHECKOUT [--n 100000] [--rounds 3] [--runs 3]")
  const n = Number(opt("--n") ?? 100_000)
  const rounds = Number(opt("--rounds") ?? 3)
  const runs = Number(opt("--runs") ?? 3)
  const { build } = await import("./pull.ts")
  const s = await build(n)
  const built: Built = { root: s.repo.root, db: s.repo.db, snapshot: s.snapshot }
  console.log(`pull ${n}: scenario built in ${s.buildSeconds.toFixed(1)} s`)
  const checkouts = [NodePath.resolve(other), here]
  const all = new Map<string, Array<{ ms: number; cpuMs: number; writtenMiB: number }>>(checkouts.map((c) => [c, []]))
  try {
    for (let r = 0; r < rounds; r++) {
      for (const root of checkouts) {
        const out = Bun.spawnSync([process.execPath, import.meta.path, "--child", root, "--built", JSON.stringify(built), "--n", String(n), "--runs", String(runs)], {
          stdout: "pipe",
          stderr: "inherit"
        })
        if (out.exitCode !== 0) throw new Error(`${root}: child failed`)
        const result = JSON.parse(out.stdout.toString().trim().split("\n").pop()!) as { runs: Array<{ ms: number; cpuMs: number; writtenMiB: number }>; tables: unknown }
        all.get(root)!.push(...result.runs)
        const [load] = (await import("node:os")).loadavg()
        console.log(
          `round ${r + 1} ${root}: ms ${result.runs.map((x) => x.ms.toFixed(0)).join(" ")}; cpu ms ${result.runs.map((x) => x.cpuMs.toFixed(0)).join(" ")}; written MiB ${
            result.runs.map((x) => x.writtenMiB.toFixed(0)).join(" ")
          }; load ${load!.toFixed(1)}; tables ${JSON.stringify(result.tables)}`
        )
      }
    }
  } finally {
    s.repo.cleanup()
  }
  for (const [root, xs] of all) {
    const best = Math.min(...xs.map((x) => x.ms))
    console.log(
      `${root}: median ${median(xs.map((x) => x.ms)).toFixed(0)} ms (best ${best.toFixed(0)}, ${Math.round(n / (best / 1000))} events/s), median cpu ${
        median(xs.map((x) => x.cpuMs)).toFixed(0)
      } ms, written ${median(xs.map((x) => x.writtenMiB)).toFixed(0)} MiB`
    )
  }
}

if (args[0] === "--child") await child(args[1]!, JSON.parse(opt("--built")!) as Built, Number(opt("--n")), Number(opt("--runs")))
else await main()
