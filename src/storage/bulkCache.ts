import type { Database } from "bun:sqlite"

/** The most page cache a bulk pass takes: SQLite allocates pages only as the pass touches them. */
const bulkCacheBytes = 1024 * 1024 * 1024

/**
 * Runs `f` (a pass that rewrites large tables in one transaction: a rebuild, a
 * relearn) with the connection's page cache raised to the database's size, at
 * most 1 GiB, then puts the configured size back. With the usual cache (64 MiB)
 * such a transaction overflows it: SQLite spills dirty pages to the WAL in the
 * middle of the transaction and reads them back for the next random insert
 * into the tables' B-trees, most of a 1,000,000-event rebuild's time (figures
 * in docs/decisions.md, "Rebuild speed").
 */
export const withBulkCache = <A>(db: Database, f: () => A): A => {
  const configured = (db.query("PRAGMA cache_size").get() as { cache_size: number }).cache_size
  const pageSize = (db.query("PRAGMA page_size").get() as { page_size: number }).page_size
  const pages = (db.query("PRAGMA page_count").get() as { page_count: number }).page_count
  // A negative cache_size is KiB, a positive one pages.
  const configuredBytes = configured < 0 ? -configured * 1024 : configured * pageSize
  const wanted = Math.min(pages * pageSize, bulkCacheBytes)
  if (wanted <= configuredBytes) return f()
  db.run(`PRAGMA cache_size = ${-Math.ceil(wanted / 1024)}`)
  try {
    return f()
  } finally {
    db.run(`PRAGMA cache_size = ${configured}`)
  }
}
