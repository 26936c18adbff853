import type { Database } from "bun:sqlite"
import { Effect } from "effect"
import * as NodeFs from "node:fs"
import { autocheckpointPages } from "./Sqlite.ts"

/** Size of the database's write-ahead log in bytes (0 when there is none). */
export const walBytes = (databasePath: string): number => {
  try {
    return NodeFs.statSync(`${databasePath}-wal`).size
  } catch {
    return 0
  }
}

export interface CheckpointResult {
  readonly mode: "PASSIVE" | "TRUNCATE"
  /** True when readers or a writer kept it from completing. */
  readonly busy: boolean
  /** Frames in the WAL, and how many were copied into the database. */
  readonly logFrames: number
  readonly checkpointedFrames: number
  readonly walBytesAfter: number
  readonly ms: number
}

/**
 * Runs a checkpoint on `db`. Give it a connection whose busy timeout is 0, so
 * a TRUNCATE that readers or a writer block reports busy instead of making
 * writers wait.
 */
export const checkpoint = (db: Database, databasePath: string, mode: "PASSIVE" | "TRUNCATE"): CheckpointResult => {
  const started = performance.now()
  let row = { busy: 1, log: -1, checkpointed: -1 }
  try {
    row = db.query(`PRAGMA wal_checkpoint(${mode})`).get() as typeof row
  } catch {
    // SQLITE_BUSY: reported as busy below
  }
  return {
    mode,
    busy: row.busy !== 0,
    logFrames: row.log,
    checkpointedFrames: row.checkpointed,
    walBytesAfter: walBytes(databasePath),
    ms: Math.round((performance.now() - started) * 100) / 100
  }
}

/** The WAL a run of write batches may grow to before it is checkpointed: 64 MiB of 4 KiB pages, `sync watch`'s bound. */
export const batchRunCheckpointPages = 16_384

/**
 * Runs a run of write transactions (a pull's batches) with the automatic
 * checkpoint moved from 1,000 pages to 64 MiB, then puts it back and runs one
 * PASSIVE checkpoint, so the run pays for its WAL once. At 1,000 pages a
 * 100,000-event pull checkpointed about 25 times, writing the same heads
 * pages to the database again each time (docs/decisions.md, "A pull
 * checkpoints once").
 */
export const withBatchRunCheckpoints = <A, E, R>(db: Database, run: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.acquireUseRelease(
    Effect.sync(() => db.run(`PRAGMA wal_autocheckpoint = ${batchRunCheckpointPages}`)),
    () => run,
    () =>
      Effect.sync(() => {
        db.run(`PRAGMA wal_autocheckpoint = ${autocheckpointPages}`)
        try {
          db.run("PRAGMA wal_checkpoint(PASSIVE)")
        } catch {
          // Busy or read-only: the next commit past the bound checkpoints instead.
        }
      })
  )
