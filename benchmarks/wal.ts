/**
 * 2. Sustained writes and WAL checkpointing: 1,000,000 events (quick: 20,000)
 * appended in transactions of 1,000 while a reader in a Worker polls, under
 * three checkpoint policies. "Ours" appends through grove's EventStore.transact
 * (Effect, multi-row inserts); the baseline appends the same rows with raw
 * prepared statements, one per row, on its own database.
 *
 * Policies (the writer connection; grove itself sets wal_autocheckpoint = 1000):
 *  - autocheckpoint: grove's settings unchanged; SQLite checkpoints inside the
 *    COMMIT that takes the WAL past 1000 pages.
 *  - passive: wal_autocheckpoint = 0 and PRAGMA wal_checkpoint(PASSIVE) after every batch.
 *  - truncate: wal_autocheckpoint = 0 and PRAGMA wal_checkpoint(TRUNCATE) after a
 *    batch that leaves the WAL file above the size bound.
 *
 * WAL size is the -wal file's size after every batch; the frames each batch
 * wrote and whether a checkpoint ran inside it come from the WAL-index header
 * in the -shm file (mxFrame, salt, nBackfill).
 */
import type { Database } from "bun:sqlite"
import { Effect } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { draft, type EventDraft } from "../src/events/Event.ts"
import { EventStore } from "../src/events/EventStore.ts"
import { newEntityId } from "../src/events/ids.ts"
import { nextStamps } from "../src/events/hlc.ts"
import { Sqlite } from "../src/storage/Sqlite.ts"
import {
  type BenchContext,
  type BenchResult,
  groveRuntime,
  median,
  migratedRaw,
  now,
  percentile,
  round,
  row,
  type Row,
  settle,
  stat,
  target,
  type Target
} from "./harness.ts"
import { seededRandom } from "../test/support/random.ts"
import { makeRepo, makeTempDir, removeTempDir } from "../test/support/repo.ts"

type PolicyName = "autocheckpoint" | "passive" | "truncate"
const policies: ReadonlyArray<PolicyName> = ["autocheckpoint", "passive", "truncate"]
const batchSize = 1_000
const statuses = ["todo", "in_progress", "done", "blocked"] as const

/** The WAL-index header fields we watch (native byte order: little-endian on x86). */
const shmHeader = (fd: number, buf: Buffer) => {
  NodeFs.readSync(fd, buf, 0, 100, 0)
  return { mxFrame: buf.readUInt32LE(16), salt: `${buf.readUInt32LE(32)}:${buf.readUInt32LE(36)}`, nBackfill: buf.readUInt32LE(96) }
}

const fileSize = (path: string) => {
  try {
    return NodeFs.statSync(path).size
  } catch {
    return 0
  }
}

interface Target_ {
  readonly db: Database
  readonly path: string
  readonly write: (drafts: ReadonlyArray<EventDraft>) => Promise<void> | void
  readonly close: () => Promise<void> | void
}

/** grove: EventStore.transact + append through Effect, on a repository's database. */
const groveTarget = async (): Promise<Target_> => {
  const repo = makeRepo("bench-wal")
  const rt = await groveRuntime(repo.root)
  const { db, path } = await rt.runPromise(Sqlite)
  const store = await rt.runPromise(EventStore)
  await rt.runPromise(store.transact(() => Effect.void)) // resolve the git context once, outside the measurement
  return {
    db,
    path,
    write: (drafts) => rt.runPromise(Effect.asVoid(store.transact((append) => append(drafts, null)))),
    close: async () => {
      await rt.dispose()
      repo.cleanup()
    }
  }
}

/** The baseline: the same rows as EventStore.append writes, one prepared INSERT per row. */
const rawTarget = (): Target_ => {
  const dir = makeTempDir("bench-wal-raw")
  const path = NodePath.join(dir, "raw.db")
  const db = migratedRaw(path)
  const stream = (db.query("INSERT INTO streams (name) VALUES ('main') RETURNING id").get() as { id: number }).id
  const tx = db.prepare("INSERT INTO transactions (stream_id, worktree, head, actor, committed_at) VALUES (?, ?, NULL, 'raw', ?) RETURNING id")
  const maxSeq = db.prepare("SELECT coalesce(max(seq), 0) AS seq FROM events")
  const maxPos = db.prepare("SELECT coalesce(max(pos), 0) AS pos FROM events WHERE stream_id = ?")
  const hlc = db.prepare("SELECT last FROM hlc")
  const setHlc = db.prepare("UPDATE hlc SET last = ?")
  const insert = db.prepare(
    "INSERT INTO events (seq, id, tx_id, stream_id, clock, entity_kind, entity_id, op, payload, payload_version, cause_id, frontier_id, if_version, pos) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, NULL, 0, ?)"
  )
  const write = db.transaction((drafts: ReadonlyArray<EventDraft>) => {
    const txId = (tx.get(stream, dir, Date.now()) as { id: number }).id
    const base = (maxSeq.get() as { seq: number }).seq
    const pos = (maxPos.get(stream) as { pos: number }).pos
    const stamps = nextStamps((hlc.get() as { last: number }).last, Date.now(), drafts.length)
    drafts.forEach((d, i) => {
      insert.run(base + i + 1, d.id, txId, stream, stamps.first + i, d.entityKind, d.entityId, d.op, JSON.stringify(d.payload), d.causeId, pos + i + 1)
    })
    setHlc.run(stamps.last)
  })
  return {
    db,
    path,
    write: (drafts) => void write.immediate(drafts),
    close: () => {
      db.close()
      removeTempDir(dir)
    }
  }
}

interface Reader {
  readonly stop: () => Promise<ReadonlyArray<number>>
}

const startReader = async (path: string, entities: ReadonlyArray<string>): Promise<Reader> => {
  const worker = new Worker(new URL("./walReader.ts", import.meta.url).href)
  const messages: Array<(m: any) => void> = []
  worker.onmessage = (e: MessageEvent) => messages.shift()?.(e.data)
  const next = () => new Promise<any>((resolve) => messages.push(resolve))
  const ready = next()
  worker.postMessage({ type: "start", path, entities, gapMs: 1 })
  await ready
  return {
    stop: async () => {
      const done = next()
      worker.postMessage({ type: "stop" })
      const m = await done
      worker.terminate()
      return m.latencies as ReadonlyArray<number>
    }
  }
}

interface RunReport {
  readonly eventsPerSec: number
  readonly seconds: number
  readonly walMaxBytes: number
  readonly walFinalBytes: number
  readonly batchMaxBytes: number
  readonly boundBytes: number
  readonly boundLabel: string
  /** walMax <= bound + one batch. */
  readonly withinBound: boolean
  readonly checkpoints: number
  readonly checkpointBusy: number
  /** Sum of the checkpoint pauses: the share of the run spent checkpointing. */
  readonly checkpointTotalMs: number
  /** Measured PRAGMA time (passive, truncate) or, for autocheckpoint, the batch's extra time over neighbouring batches without one. */
  readonly pauseMs: { readonly p50: number; readonly p99: number; readonly max: number }
  readonly writeMs: { readonly p50: number; readonly p99: number; readonly max: number }
  readonly readerQueries: number
  readonly readerMs: { readonly p50: number; readonly p99: number; readonly max: number }
  readonly walSeries: ReadonlyArray<readonly [number, number]>
}

const dist = (xs: ReadonlyArray<number>) => ({ p50: round(percentile(xs, 50), 3), p99: round(percentile(xs, 99), 3), max: round(xs.length ? Math.max(...xs) : NaN, 3) })

const runPolicy = async (
  make: () => Promise<Target_> | Target_,
  policy: PolicyName,
  total: number,
  truncateBound: number,
  seed: number
): Promise<RunReport> => {
  const t = await make()
  try {
    const walPath = `${t.path}-wal`
    if (policy !== "autocheckpoint") t.db.run("PRAGMA wal_autocheckpoint = 0")
    const pageSize = (t.db.query("PRAGMA page_size").get() as { page_size: number }).page_size
    const frameBytes = pageSize + 24
    const autoPages = (t.db.query("PRAGMA wal_autocheckpoint").get() as { wal_autocheckpoint: number }).wal_autocheckpoint
    const rng = seededRandom(seed)
    const entities = Array.from({ length: 10_000 }, () => newEntityId("task"))
    const reader = await startReader(t.path, entities)
    const shmFd = NodeFs.openSync(`${t.path}-shm`, "r")
    const shmBuf = Buffer.alloc(100)
    const writes: Array<number> = []
    const pauses: Array<number> = []
    const autoCheckpointed: Array<boolean> = []
    const series: Array<readonly [number, number]> = []
    let busy = 0
    let checkpoints = 0
    let walMax = 0
    let batchMaxFrames = 0
    let elapsed = 0
    let before = shmHeader(shmFd, shmBuf)
    settle()
    try {
      for (let b = 0; b * batchSize < total; b++) {
        const drafts = Array.from({ length: Math.min(batchSize, total - b * batchSize) }, (_, i) =>
          draft(
            "task.updated",
            { kind: "task", id: entities[rng.int(entities.length)]! },
            i % 3 === 0 ? { title: `title ${b}.${i}` } : { status: statuses[rng.int(4)]! }
          ))
        const start = now()
        await t.write(drafts)
        const written = now()
        const after = shmHeader(shmFd, shmBuf)
        const restarted = after.salt !== before.salt
        batchMaxFrames = Math.max(batchMaxFrames, restarted || after.mxFrame < before.mxFrame ? after.mxFrame : after.mxFrame - before.mxFrame)
        const ran = after.nBackfill > 0 && (restarted || after.nBackfill !== before.nBackfill)
        autoCheckpointed.push(policy === "autocheckpoint" && ran)
        if (policy === "autocheckpoint" && ran) checkpoints++
        const size = fileSize(walPath)
        walMax = Math.max(walMax, size)
        series.push([b + 1, size])
        if (policy === "passive" || (policy === "truncate" && size > truncateBound)) {
          const c = now()
          const r = t.db.query(`PRAGMA wal_checkpoint(${policy === "passive" ? "PASSIVE" : "TRUNCATE"})`).get() as { busy: number }
          pauses.push(now() - c)
          checkpoints++
          if (r.busy !== 0) busy++
          series.push([b + 1, fileSize(walPath)])
        }
        elapsed += now() - start
        writes.push(written - start)
        before = shmHeader(shmFd, shmBuf)
      }
    } finally {
      NodeFs.closeSync(shmFd)
    }
    const latencies = await reader.stop()
    if (policy === "autocheckpoint") {
      // The checkpoint runs inside the COMMIT: bill each such batch its excess over nearby batches without one.
      autoCheckpointed.forEach((ran, i) => {
        if (!ran) return
        const near: Array<number> = []
        for (let j = i - 1; j >= 0 && near.length < 10; j--) if (!autoCheckpointed[j]) near.push(writes[j]!)
        for (let j = i + 1; j < writes.length && near.length < 20; j++) if (!autoCheckpointed[j]) near.push(writes[j]!)
        pauses.push(Math.max(0, writes[i]! - (near.length > 0 ? median(near) : 0)))
      })
    }
    const batchMaxBytes = batchMaxFrames * frameBytes
    const bound = policy === "autocheckpoint"
      ? { bytes: autoPages * frameBytes + 32, label: `wal_autocheckpoint ${autoPages} pages` }
      : policy === "passive"
      ? { bytes: batchMaxBytes + 32, label: "one batch (checkpoint after every batch)" }
      : { bytes: truncateBound, label: `${(truncateBound / 2 ** 20).toFixed(0)} MiB` }
    const step = Math.max(1, Math.ceil(series.length / 100))
    return {
      eventsPerSec: total / (elapsed / 1000),
      seconds: elapsed / 1000,
      walMaxBytes: walMax,
      walFinalBytes: fileSize(walPath),
      batchMaxBytes,
      boundBytes: bound.bytes,
      boundLabel: bound.label,
      withinBound: walMax <= bound.bytes + batchMaxBytes,
      checkpoints,
      checkpointBusy: busy,
      checkpointTotalMs: round(pauses.reduce((a, b) => a + b, 0), 1),
      pauseMs: dist(pauses),
      writeMs: dist(writes),
      readerQueries: latencies.length,
      readerMs: dist(latencies),
      walSeries: series.filter((_, i) => i % step === 0 || i === series.length - 1)
    }
  } finally {
    await t.close()
  }
}

const mib = (bytes: number) => round(bytes / 2 ** 20, 2)

export const wal = async (ctx: BenchContext): Promise<BenchResult> => {
  const started = now()
  const total = ctx.quick ? 20_000 : 1_000_000
  const runs = ctx.quick ? 1 : 3
  const truncateBound = ctx.quick ? 1 * 2 ** 20 : 64 * 2 ** 20
  const reports: Record<string, Array<RunReport>> = {}
  for (let r = 0; r < runs; r++) {
    for (const policy of policies) {
      for (const [who, make] of [["grove", groveTarget], ["raw", rawTarget]] as const) {
        const rep = await runPolicy(make, policy, total, truncateBound, 1000 + r)
        ;(reports[`${who}/${policy}`] ??= []).push(rep)
        ctx.log(
          `wal ${who}/${policy} run ${r + 1}: ${Math.round(rep.eventsPerSec)} events/s, WAL max ${mib(rep.walMaxBytes)} MiB final ${mib(rep.walFinalBytes)} MiB (batch ${mib(rep.batchMaxBytes)} MiB), ${rep.checkpoints} checkpoints (${(rep.checkpointTotalMs / 1000).toFixed(1)} s) pause p50/p99/max ${rep.pauseMs.p50}/${rep.pauseMs.p99}/${rep.pauseMs.max} ms, reader p99 ${rep.readerMs.p99} ms`
        )
      }
    }
  }
  const rows: Array<Row> = []
  const targets: Array<Target> = []
  const medianOf = (key: string, f: (r: RunReport) => number) => stat(reports[key]!.map(f))
  for (const policy of policies) {
    const g = `grove/${policy}`
    const b = `raw/${policy}`
    rows.push(row({ benchmark: "wal", case: `${policy}: throughput`, unit: "events/s", better: "higher", ours: medianOf(g, (r) => r.eventsPerSec), baseline: medianOf(b, (r) => r.eventsPerSec) }))
    rows.push(row({ benchmark: "wal", case: `${policy}: WAL max`, unit: "MiB", better: "lower", ours: medianOf(g, (r) => mib(r.walMaxBytes)), baseline: medianOf(b, (r) => mib(r.walMaxBytes)) }))
    rows.push(row({ benchmark: "wal", case: `${policy}: WAL final`, unit: "MiB", better: "lower", ours: medianOf(g, (r) => mib(r.walFinalBytes)), baseline: medianOf(b, (r) => mib(r.walFinalBytes)) }))
    for (const q of ["p50", "p99", "max"] as const) {
      rows.push(row({ benchmark: "wal", case: `${policy}: checkpoint pause ${q}`, unit: "ms", better: "lower", ours: medianOf(g, (r) => r.pauseMs[q]), baseline: medianOf(b, (r) => r.pauseMs[q]) }))
    }
    rows.push(row({ benchmark: "wal", case: `${policy}: batch commit p99`, unit: "ms", better: "lower", ours: medianOf(g, (r) => r.writeMs.p99), baseline: medianOf(b, (r) => r.writeMs.p99) }))
    rows.push(row({ benchmark: "wal", case: `${policy}: reader latency p99`, unit: "ms", better: "lower", ours: medianOf(g, (r) => r.readerMs.p99), baseline: medianOf(b, (r) => r.readerMs.p99) }))
    const worst = reports[g]!.reduce((a, x) => (x.walMaxBytes - x.boundBytes - x.batchMaxBytes > a.walMaxBytes - a.boundBytes - a.batchMaxBytes ? x : a))
    targets.push(
      target(
        `${policy}: WAL max / (bound ${worst.boundLabel} + one batch ${mib(worst.batchMaxBytes)} MiB), worst run`,
        worst.walMaxBytes / (worst.boundBytes + worst.batchMaxBytes),
        "max",
        1,
        "x"
      )
    )
  }
  const auto = stat(reports["grove/autocheckpoint"]!.map((r) => r.eventsPerSec)).median
  for (const policy of ["passive", "truncate"] as const) {
    targets.push(target(`${policy}: throughput / autocheckpoint-only throughput`, stat(reports[`grove/${policy}`]!.map((r) => r.eventsPerSec)).median / auto, "min", 0.9, "x"))
  }
  return {
    name: "wal",
    rows,
    targets,
    details: { events: total, batchSize, runs, truncateBoundBytes: truncateBound, reports },
    seconds: (now() - started) / 1000
  }
}
