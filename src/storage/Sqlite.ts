import { Database } from "bun:sqlite"
import { Context, Effect, Exit, FiberRef, Layer } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { DatabaseLocation } from "./DatabaseLocation.ts"
import { type DatabaseBusy, type DatabaseError, DatabaseUnavailable, trySqlite } from "./errors.ts"
import { type StorageSettings, StorageConfig } from "./StorageConfig.ts"

/**
 * The open database: the raw bun:sqlite handle (multi-row statements without
 * Effect's per-statement cost), the file path, and `transaction`, the write
 * path's BEGIN IMMEDIATE transactions on that handle. grove's own transaction
 * replaced @effect/sql's SqlClient, whose client, Reactivity and Stream
 * modules every command loaded and built (docs/decisions.md, "Start-up").
 */
export class Sqlite extends Context.Tag("grove/Sqlite")<Sqlite, {
  readonly db: Database
  readonly path: string
  /**
   * Runs `body` in one BEGIN IMMEDIATE transaction: committed when it
   * succeeds, rolled back when it fails, dies or is interrupted. Transactions
   * on this connection run one at a time (fibers wait for each other); a
   * transaction started inside another one is a bug and dies.
   */
  readonly transaction: <A, E, R>(body: Effect.Effect<A, E, R>) => Effect.Effect<A, E | DatabaseBusy | DatabaseError, R>
}>() {
  /** Opens (creating if needed) the database named by DatabaseLocation. */
  static readonly layer = (options: { readonly readonly?: boolean } = {}) =>
    Layer.scoped(
      Sqlite,
      Effect.gen(function*() {
        const { path } = yield* DatabaseLocation
        const settings = yield* StorageConfig
        const db = yield* open(path, settings, options.readonly === true)
        return { db, path, transaction: transactions(db) }
      })
    )
}

/** DESIGN.md section 3's automatic checkpoint: when a commit leaves the WAL past this many pages. */
export const autocheckpointPages = 1000

/** PRAGMAs of DESIGN.md section 3, in the order that keeps concurrent opens safe. */
export const connectionPragmas = (settings: StorageSettings): ReadonlyArray<string> => [
  // First, so that switching to WAL while another process holds a lock waits instead of failing.
  `PRAGMA busy_timeout = ${settings.busyTimeoutMs}`,
  "PRAGMA journal_mode = WAL",
  `PRAGMA synchronous = ${settings.synchronous}`,
  "PRAGMA foreign_keys = ON",
  "PRAGMA temp_store = MEMORY",
  `PRAGMA mmap_size = ${256 * 1024 * 1024}`,
  `PRAGMA cache_size = ${-settings.cacheMiB * 1024}`,
  `PRAGMA wal_autocheckpoint = ${autocheckpointPages}`
]

/**
 * Statements `Database.query` keeps prepared per connection. Bun's default is
 * 20, least recently used evicted first; one pull batch runs about 44 distinct
 * statements in turn, so with 20 every one of them was prepared again in every
 * batch (about half of all calls; docs/decisions.md, "Prepared statements").
 */
export const queryCacheSize = 512

const open = (path: string, settings: StorageSettings, readonly: boolean) =>
  Effect.acquireRelease(
    Effect.try({
      try: () => {
        Database.MAX_QUERY_CACHE_SIZE = queryCacheSize
        if (!readonly) NodeFs.mkdirSync(NodePath.dirname(path), { recursive: true })
        const db = readonly ? new Database(path, { readonly: true }) : new Database(path, { create: true, readwrite: true })
        try {
          for (const pragma of connectionPragmas(settings)) {
            // A read-only connection cannot switch journal modes; it reads whatever mode the file has.
            if (readonly && pragma.includes("journal_mode")) continue
            db.run(pragma)
          }
        } catch (cause) {
          db.close()
          throw cause
        }
        return db
      },
      catch: (cause) =>
        new DatabaseUnavailable({
          message: `cannot open the database at ${path}: ${cause instanceof Error ? cause.message : String(cause)}`,
          details: { path }
        })
    }),
    closeQuietly
  )

/** Best-effort passive checkpoint, then close; never throws (read-only media, sandboxes). */
const closeQuietly = (db: Database) =>
  Effect.sync(() => {
    try {
      db.run("PRAGMA wal_checkpoint(PASSIVE)")
    } catch {
      // a read-only file or a busy reader: the next writer checkpoints instead
    }
    try {
      db.close()
    } catch {
      // closing twice or on a vanished file must not turn success into failure
    }
  })

/** How many write transactions each connection has rolled back (`rollbacks`). */
const rolledBack = new WeakMap<Database, number>()

/**
 * How many of grove's write transactions on this connection were rolled
 * back. A cache of rows read or written inside a transaction drops them when
 * this changes: SQLite hands a rolled-back row's rowid to the next insert,
 * from any process, so the same id can name another row afterwards.
 */
export const rollbacks = (db: Database): number => rolledBack.get(db) ?? 0

const countRollback = (db: Database): void => {
  rolledBack.set(db, rollbacks(db) + 1)
}

/**
 * A synchronous BEGIN IMMEDIATE transaction for passes that run outside the
 * Effect write path (a rebuild, verify's relearn): bun's `db.transaction`
 * rolls back when `f` throws, and the rollback is counted (`rollbacks`).
 */
export const immediateTransaction = <A>(db: Database, f: () => A): A => {
  try {
    return db.transaction(f).immediate()
  } catch (e) {
    countRollback(db)
    throw e
  }
}

/** Whether the running fiber is inside a transaction (one connection cannot nest BEGIN). */
const insideTransaction = FiberRef.unsafeMake(false)

const transactions = (db: Database) => {
  const permit = Effect.unsafeMakeSemaphore(1)
  const rollBack = () => {
    countRollback(db)
    // SQLite ends a transaction by itself after some errors (a full disk, an I/O error).
    if (db.inTransaction) db.run("ROLLBACK")
  }
  const rollback = Effect.sync(rollBack)
  // A COMMIT that fails (a full disk) leaves the transaction open: it is ended, so nothing half-written stays.
  const commit = trySqlite(() => {
    try {
      db.run("COMMIT")
    } catch (cause) {
      rollBack()
      throw cause
    }
  })
  return <A, E, R>(body: Effect.Effect<A, E, R>): Effect.Effect<A, E | DatabaseBusy | DatabaseError, R> =>
    Effect.flatMap(FiberRef.get(insideTransaction), (inside) =>
      inside
        ? Effect.dieMessage("a transaction was started inside another one on the same connection")
        : permit.withPermits(1)(Effect.uninterruptibleMask((restore) => {
          const run: Effect.Effect<Exit.Exit<A, E>, never, R> = Effect.exit(restore(Effect.locally(body, insideTransaction, true)))
          return Effect.zipRight(
            trySqlite(() => db.run("BEGIN IMMEDIATE")),
            Effect.flatMap(run, (exit): Effect.Effect<A, E | DatabaseBusy | DatabaseError> =>
              Exit.isSuccess(exit) ? Effect.as(commit, exit.value) : Effect.zipRight(rollback, exit))
          )
        })))
}
