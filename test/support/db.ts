/**
 * A database file read and written directly with raw bun:sqlite, beside
 * grove's own connections, to check what grove wrote or to tamper with it.
 */
import { Database } from "bun:sqlite"
import * as NodeFs from "node:fs"
import type { LogEntry } from "../../src/events/log.ts"

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

/** Events in log order with their transaction's git context, optionally only those after `afterSeq`. */
export const eventsAfter = (path: string, afterSeq = 0): Array<LogEntry> =>
  withDb(path, (db) =>
    db.query(
      `SELECT e.*, s.name AS stream, t.worktree, t.head, t.actor
       FROM events e JOIN transactions t ON t.id = e.tx_id JOIN streams s ON s.id = e.stream_id
       WHERE e.seq > ? ORDER BY e.seq`
    ).all(afterSeq) as Array<LogEntry>)
