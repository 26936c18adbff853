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

/** Runs `query` for chunks of at most 500 ids (under SQLite's parameter limit) and concatenates the rows. */
export const chunked = <A, R>(ids: ReadonlyArray<A>, query: (chunk: ReadonlyArray<A>, placeholders: string) => ReadonlyArray<R>): Array<R> => {
  const out: Array<R> = []
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500)
    out.push(...query(chunk, chunk.map(() => "?").join(", ")))
  }
  return out
}
