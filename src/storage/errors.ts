import { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"
import { GroveError } from "../errors/index.ts"

export class DatabaseUnavailable extends GroveError("DatabaseUnavailable", "database_unavailable") {}
export class DatabaseBusy extends GroveError("DatabaseBusy", "database_busy") {}
export class DatabaseError extends GroveError("DatabaseError", "database_error") {}

const causeText = (cause: unknown): string =>
  cause instanceof SqlError ? causeText(cause.cause) : cause instanceof Error ? cause.message : String(cause)

/** Turns a raw SQLite failure into a coded error: busy past the timeout, or anything else. */
export const fromSqlCause = (cause: unknown): DatabaseBusy | DatabaseError => {
  const text = causeText(cause)
  return /SQLITE_BUSY|database is locked/i.test(text)
    ? new DatabaseBusy({ message: `the database stayed locked past the busy timeout: ${text}` })
    : new DatabaseError({ message: `SQLite error: ${text}` })
}

/**
 * Maps SqlError in an effect's error channel to coded storage errors, and a
 * failed COMMIT too, which @effect/sql raises as a defect (a full disk at
 * commit is an error to report, not a bug).
 */
export const orDatabaseError = <A, E, R>(self: Effect.Effect<A, E | SqlError, R>) =>
  Effect.catchIf(self, (e): e is SqlError => e instanceof SqlError, (e) => Effect.fail(fromSqlCause(e))).pipe(
    Effect.catchSomeDefect((d) => (d instanceof SqlError ? Option.some(Effect.fail(fromSqlCause(d))) : Option.none()))
  )

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
