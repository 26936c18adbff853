/**
 * A database file read and written directly with raw bun:sqlite, beside
 * grove's own connections, to check what grove wrote or to tamper with it.
 */
import { Database } from "bun:sqlite"
import * as NodeFs from "node:fs"

/** Opens an existing database file (read-only when asked), waiting up to 10 s for grove's locks. */
export const openDb = (path: string, options: { readonly readonly?: boolean } = {}): Database => {
  const db = options.readonly === true ? new Database(path, { readonly: true }) : new Database(path, { readwrite: true, create: false })
  db.run("PRAGMA busy_timeout = 10000")
  return db
}

/** Opens the database file at `path`, runs `f`, closes it. */
export const withDb = <A>(path: string, f: (db: Database) => A, options: { readonly readonly?: boolean } = {}): A => {
  const db = openDb(path, options)
  try {
    return f(db)
  } finally {
    db.close()
  }
}

/** Removes a database file and its WAL and shared-memory files. */
export const removeDb = (path: string): void => {
  for (const suffix of ["", "-wal", "-shm"]) NodeFs.rmSync(path + suffix, { force: true })
}

export const countRows = (path: string, table: string, where = ""): number =>
  withDb(path, (db) => (db.query(`SELECT count(*) AS n FROM ${table} ${where}`).get() as { n: number }).n)

export const lastSeq = (path: string): number =>
  withDb(path, (db) => (db.query("SELECT coalesce(max(seq), 0) AS n FROM events").get() as { n: number }).n)

export type EventRow = {
  readonly seq: number
  readonly id: string
  readonly tx_id: number
  readonly clock: number
  readonly entity_kind: string
  readonly entity_id: string
  readonly op: string
  readonly payload: string
  readonly cause_id: string | null
  readonly stream: string
  readonly worktree: string
  readonly head: string | null
  readonly actor: string
}

/** Events in log order with their transaction's git context, optionally only those after `afterSeq`. */
export const eventsAfter = (path: string, afterSeq = 0): Array<EventRow> =>
  withDb(path, (db) =>
    db.query(
      `SELECT e.seq, e.id, e.tx_id, e.clock, e.entity_kind, e.entity_id, e.op, e.payload, e.cause_id,
              s.name AS stream, t.worktree, t.head, t.actor
       FROM events e JOIN transactions t ON t.id = e.tx_id JOIN streams s ON s.id = e.stream_id
       WHERE e.seq > ? ORDER BY e.seq`
    ).all(afterSeq) as Array<EventRow>)
