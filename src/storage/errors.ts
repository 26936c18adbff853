import { Effect } from "effect"
import { GroveError } from "../errors/index.ts"

export class DatabaseUnavailable extends GroveError("DatabaseUnavailable", "database_unavailable") {}
export class DatabaseBusy extends GroveError("DatabaseBusy", "database_busy") {}
export class DatabaseError extends GroveError("DatabaseError", "database_error") {}

const causeText = (cause: unknown): string => cause instanceof Error ? cause.message : String(cause)

/** Turns a raw SQLite failure into a coded error: busy past the timeout, or anything else. */
export const fromSqlCause = (cause: unknown): DatabaseBusy | DatabaseError => {
  const text = causeText(cause)
  return /SQLITE_BUSY|database is locked/i.test(text)
    ? new DatabaseBusy({ message: `the database stayed locked past the busy timeout: ${text}` })
    : new DatabaseError({ message: `SQLite error: ${text}` })
}

/** Whether a throw came from SQLite itself (bun:sqlite's SQLiteError), not from a bug in the code around it. */
const isSqliteFailure = (cause: unknown) => cause instanceof Error && cause.name === "SQLiteError"

/**
 * Runs synchronous raw bun:sqlite work. A SQLite failure becomes a coded
 * error (busy, or database_error); anything else is a defect, which the
 * command line answers as `internal`.
 */
export const trySqlite = <A>(f: () => A): Effect.Effect<A, DatabaseBusy | DatabaseError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(f())
    } catch (cause) {
      return isSqliteFailure(cause) ? Effect.fail(fromSqlCause(cause)) : Effect.die(cause)
    }
  })
