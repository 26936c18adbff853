import type { Database } from "bun:sqlite"

/**
 * Calls `onChange` when another connection commits to the database: SQLite
 * bumps `PRAGMA data_version` for every commit but the reader's own, so one
 * cheap statement per tick sees writes by CLIs, other servers and watchers.
 * The server's own writes are announced by the tool call that made them.
 */
export const watchDataVersion = (db: Database, intervalMs: number, onChange: () => void) => {
  const read = db.query<{ data_version: number }, []>("PRAGMA data_version")
  let seen = read.get()!.data_version
  const timer = setInterval(() => {
    const now = read.get()!.data_version
    if (now !== seen) {
      seen = now
      onChange()
    }
  }, intervalMs)
  return () => clearInterval(timer)
}
