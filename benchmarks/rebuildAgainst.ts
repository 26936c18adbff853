/**
 * The rebuild benchmark's log (rebuild.ts `buildLog`), or a database given,
 * rebuilt by this checkout and another one, interleaved on one shared
 * machine, each run in a fresh process:
 *
 *   bun benchmarks/rebuildAgainst.ts --other /path/to/other/checkout [--n 100000] [--rounds 3] [--runs 1] [--untimed 1] [--verify | --relearn]
 *   bun benchmarks/rebuildAgainst.ts --other CHECKOUT --db path/to/grove.db --root REPO   # an existing database (a copy is rebuilt)
 *
 * The log is built once, by this checkout. Each round runs `--runs` timed
 * `rebuildAll` (after `--untimed`, 1 by default) in each checkout, on a fresh copy of the
 * database each. Per run it prints the wall time, the process's CPU time
 * (every thread) and the main thread's, and after each checkout's last run
 * a digest of every table but the log's, so two checkouts that rebuild
 * alike print the same digests. With `--verify`, `verifyAll` is timed too.
 * With `--relearn`, only the relearn of the sync state is timed
 * (`Relearn.run` as a rebuild runs it, with the bulk page cache, in a write
 * transaction that is then rolled back): the part where a stream's own
 * writes are learnt, without the spread of the rest of a rebuild. The tables
 * are then the built log's own, so their digests say nothing there: run the
 * rebuild mode for that.
 */
import { Database } from "bun:sqlite"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { args, type Built, here, opt } from "./against.ts"

interface Run {
  readonly ms: number
  readonly cpuMs: number
  readonly mainCpuMs: number
  readonly verifyMs?: number
}

/** CPU time of this process's main thread, from /proc (a worker's time is not in it). */
const mainThreadCpuMs = () => {
  const fields = NodeFs.readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
}

/** A digest of every table but the log's own (events, transactions, streams, replicas), by name. */
export const tableDigests = (path: string): Record<string, string> => {
  const db = new Database(path, { readonly: true })
  try {
    const skip = new Set(["events", "transactions", "streams", "replicas"])
    const names = (db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>)
      .map((t) => t.name)
      .filter((n) => !skip.has(n))
    const out: Record<string, string> = {}
    for (const name of names) {
      const hash = new Bun.CryptoHasher("sha256")
      // Every column in stored order, rowid first where there is one: byte-identical tables give one digest.
      let rows: Array<unknown>
      try {
        rows = db.query(`SELECT rowid, * FROM ${name} ORDER BY rowid`).values()
      } catch {
        rows = db.query(`SELECT * FROM ${name} ORDER BY 1`).values()
      }
      for (const r of rows) hash.update(JSON.stringify(r, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v)) + "\n")
      out[name] = `${rows.length}:${hash.digest("hex").slice(0, 12)}`
    }
    const schema = db.query("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").values()
    out["sqlite_master"] = Bun.hash(JSON.stringify(schema)).toString(16)
    return out
  } finally {
    db.close()
  }
}

/** One checkout's runs on the built log, in this process (the child). */
const child = async (root: string, built: Built, runs: number, verify: boolean, untimed: number, relearnOnly: boolean) => {
  const { Effect } = await import(NodePath.join(root, "node_modules/effect/dist/esm/index.js"))
  const { groveRuntime } = await import(NodePath.join(root, "benchmarks/harness.ts"))
  const { rebuildAll, verifyAll } = await import(NodePath.join(root, "src/app/Verify.ts"))
  const { immediateTransaction, Sqlite } = await import(NodePath.join(root, "src/storage/Sqlite.ts"))
  const { CausalState } = await import(NodePath.join(root, "src/causality/CausalState.ts"))
  const { withBulkCache } = await import(NodePath.join(root, "src/storage/bulkCache.ts"))
  class Rollback extends Error {}
  const relearn = Effect.flatMap(Effect.all([Sqlite, CausalState]), ([{ db }, causal]: [{ db: Database }, { relearn: { run: () => number } }]) =>
    Effect.sync(() => {
      try {
        withBulkCache(db, () =>
          immediateTransaction(db, () => {
            causal.relearn.run()
            throw new Rollback()
          }))
      } catch (e) {
        if (!(e instanceof Rollback)) throw e
      }
    }))
  const out: Array<Run> = []
  for (let i = 0; i < untimed + runs; i++) {
    for (const suffix of ["", "-wal", "-shm"]) NodeFs.rmSync(built.db + suffix, { force: true })
    NodeFs.copyFileSync(built.snapshot, built.db)
    const rt = await groveRuntime(built.root)
    Bun.gc(true)
    const c0 = process.cpuUsage()
    const m0 = mainThreadCpuMs()
    const t0 = performance.now()
    await rt.runPromise(relearnOnly ? relearn : rebuildAll())
    const ms = performance.now() - t0
    const cpu = process.cpuUsage(c0)
    const mainCpuMs = mainThreadCpuMs() - m0
    let verifyMs: number | undefined
    if (verify) {
      const v0 = performance.now()
      const report = await rt.runPromise(verifyAll)
      verifyMs = performance.now() - v0
      if (!(report as { identical: boolean }).identical) throw new Error(`${root}: verify after rebuild is not identical`)
    }
    await rt.dispose()
    if (i >= untimed) out.push({ ms, cpuMs: (cpu.user + cpu.system) / 1000, mainCpuMs, ...(verifyMs === undefined ? {} : { verifyMs }) })
  }
  console.log(JSON.stringify({ runs: out, tables: tableDigests(built.db) }))
}

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const main = async () => {
  const other = opt("--other")
  if (other === undefined) throw new Error("usage: rebuildAgainst.ts --other CHECKOUT [--n 100000 | --db FILE --root REPO] [--rounds 3] [--runs 1] [--verify | --relearn]")
  const rounds = Number(opt("--rounds") ?? 3)
  const runs = Number(opt("--runs") ?? 1)
  const verify = args.includes("--verify")
  const relearnOnly = args.includes("--relearn")
  const untimed = Number(opt("--untimed") ?? 1)
  const scratch = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "rebuild-against-"))
  let built: Built
  let n: number
  let cleanup = () => {}
  const given = opt("--db")
  if (given !== undefined) {
    const root = NodePath.resolve(opt("--root") ?? ".")
    const snapshot = NodePath.join(scratch, "snapshot.db")
    const src = new Database(given, { readonly: true })
    src.run(`VACUUM INTO '${snapshot}'`)
    n = (src.query("SELECT count(*) AS n FROM events").get() as { n: number }).n
    src.close()
    // The copy lives in the repository's own place, so grove finds it; the original is put back at the end.
    const backup = NodePath.join(scratch, "original.db")
    NodeFs.copyFileSync(given, backup)
    built = { root, db: NodePath.resolve(given), snapshot }
    cleanup = () => {
      for (const suffix of ["-wal", "-shm"]) NodeFs.rmSync(built.db + suffix, { force: true })
      NodeFs.copyFileSync(backup, built.db)
    }
  } else {
    n = Number(opt("--n") ?? 100_000)
    const { buildLog } = await import("./rebuild.ts")
    const { groveRuntime } = await import("./harness.ts")
    const { makeRepo } = await import("../test/support/repo.ts")
    const repo = makeRepo("rebuild-against")
    const rt = await groveRuntime(repo.root)
    const t = performance.now()
    await buildLog(rt, n, 10_000)
    await rt.dispose()
    const snapshot = NodePath.join(scratch, "snapshot.db")
    const db = new Database(repo.db)
    db.run(`VACUUM INTO '${snapshot}'`)
    db.close()
    console.log(`rebuild ${n}: log built in ${((performance.now() - t) / 1000).toFixed(1)} s`)
    built = { root: repo.root, db: repo.db, snapshot }
    cleanup = () => repo.cleanup()
  }
  const checkouts = [NodePath.resolve(other), here]
  const all = new Map<string, Array<Run>>(checkouts.map((c) => [c, []]))
  const digests = new Map<string, string>()
  try {
    for (let r = 0; r < rounds; r++) {
      for (const root of checkouts) {
        const out = Bun.spawnSync([process.execPath, import.meta.path, "--child", root, "--built", JSON.stringify(built), "--runs", String(runs), "--untimed", String(untimed), ...(verify ? ["--verify"] : []), ...(relearnOnly ? ["--relearn"] : [])], {
          stdout: "pipe",
          stderr: "inherit"
        })
        if (out.exitCode !== 0) throw new Error(`${root}: child failed`)
        const result = JSON.parse(out.stdout.toString().trim().split("\n").pop()!) as { runs: Array<Run>; tables: Record<string, string> }
        all.get(root)!.push(...result.runs)
        digests.set(root, JSON.stringify(result.tables))
        console.log(
          `round ${r + 1} ${root}: ms ${result.runs.map((x) => x.ms.toFixed(0)).join(" ")}; cpu ms ${result.runs.map((x) => x.cpuMs.toFixed(0)).join(" ")}; main-thread cpu ms ${
            result.runs.map((x) => x.mainCpuMs.toFixed(0)).join(" ")
          }${verify ? `; verify ms ${result.runs.map((x) => x.verifyMs!.toFixed(0)).join(" ")}` : ""}; load ${NodeOs.loadavg()[0]!.toFixed(1)}`
        )
      }
    }
  } finally {
    cleanup()
    NodeFs.rmSync(scratch, { recursive: true, force: true })
  }
  for (const [root, xs] of all) {
    const ms = median(xs.map((x) => x.ms))
    console.log(
      `${root}: median ${ms.toFixed(0)} ms (${Math.round(n / (ms / 1000))} events/s), median cpu ${median(xs.map((x) => x.cpuMs)).toFixed(0)} ms, main thread ${
        median(xs.map((x) => x.mainCpuMs)).toFixed(0)
      } ms${verify ? `, verify ${median(xs.map((x) => x.verifyMs!)).toFixed(0)} ms` : ""}`
    )
  }
  const [a, b] = checkouts.map((c) => digests.get(c)!)
  console.log(a === b ? `tables identical: ${a}` : `TABLES DIFFER:\n${checkouts[0]}: ${a}\n${checkouts[1]}: ${b}`)
  if (a !== b) process.exitCode = 1
}

if (args[0] === "--child") await child(args[1]!, JSON.parse(opt("--built")!) as Built, Number(opt("--runs")), args.includes("--verify"), Number(opt("--untimed")), args.includes("--relearn"))
else await main()
