import type { Database } from "bun:sqlite"
import * as NodeFs from "node:fs"

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
