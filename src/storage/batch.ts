import type { Database } from "bun:sqlite"

/** Rows per multi-row statement: large enough to amortise, under SQLite's parameter limit. */
const rowsPerStatement = 100

/**
 * Inserts rows with multi-row `INSERT ... VALUES (...), (...)` statements on
 * the raw handle: one prepared statement per chunk size, no per-row Effect.
 */
export const insertRows = (
  db: Database,
  into: string,
  columns: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<unknown>>
): void => {
  const tuple = `(${columns.map(() => "?").join(", ")})`
  const head = `INSERT INTO ${into} (${columns.join(", ")}) VALUES `
  for (let start = 0; start < rows.length; start += rowsPerStatement) {
    const chunk = rows.slice(start, start + rowsPerStatement)
    const statement = db.query(head + Array(chunk.length).fill(tuple).join(", "))
    statement.run(...(chunk.flat() as Array<never>))
  }
}
