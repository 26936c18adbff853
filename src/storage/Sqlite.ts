import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import * as Statement from "@effect/sql/Statement"
import { Database } from "bun:sqlite"
import { Context, Effect, Layer, Scope } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { DatabaseLocation } from "./DatabaseLocation.ts"
import { DatabaseUnavailable } from "./errors.ts"
import { type StorageSettings, StorageConfig } from "./StorageConfig.ts"

/**
 * The open database: the raw bun:sqlite handle for hot batch paths (multi-row
 * statements without Effect's per-statement cost) and the file path.
 * `Sqlite.client` adds an @effect/sql SqlClient over the same connection whose
 * transactions begin with BEGIN IMMEDIATE, so raw work inside
 * `sql.withTransaction` joins that transaction. Reads never use the client:
 * `Sqlite.connection` opens the file without it (building it is a good part of
 * a read's start-up; docs/decisions.md, "Start-up").
 */
export class Sqlite extends Context.Tag("grove/Sqlite")<Sqlite, {
  readonly db: Database
  readonly path: string
}>() {
  /** Opens (creating if needed) the database named by DatabaseLocation: the raw handle only. */
  static readonly connection = (options: { readonly readonly?: boolean } = {}) =>
    Layer.scoped(
      Sqlite,
      Effect.gen(function*() {
        const { path } = yield* DatabaseLocation
        const settings = yield* StorageConfig
        return { db: yield* open(path, settings, options.readonly === true), path }
      })
    )

  /** The SqlClient over the open connection (the write path's transactions). */
  static readonly client = Layer.scoped(SqlClient.SqlClient, Effect.flatMap(Sqlite, ({ db }) => makeClient(db))).pipe(Layer.provide(Reactivity.layer))

  /** The connection and its SqlClient. */
  static readonly layer = (options: { readonly readonly?: boolean } = {}) => Sqlite.client.pipe(Layer.provideMerge(Sqlite.connection(options)))
}

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
  "PRAGMA wal_autocheckpoint = 1000"
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

const makeClient = (db: Database): Effect.Effect<SqlClient.SqlClient, never, Scope.Scope | Reactivity.Reactivity> =>
  Effect.gen(function*() {
    const run = (sql: string, params: ReadonlyArray<unknown>, values: boolean) =>
      Effect.try({
        try: () => {
          // SQLite rolls a transaction back by itself after some errors (a full disk, an I/O error): the
          // rollback asked for afterwards has nothing left to do.
          if (sql === "ROLLBACK" && !db.inTransaction) return []
          const statement = db.query(sql)
          const args = params as Array<never>
          return (values ? statement.values(...args) : statement.all(...args)) as Array<any>
        },
        catch: (cause) => {
          // A COMMIT that fails (a full disk) leaves the transaction open: end it, so nothing half-written stays.
          if (sql === "COMMIT" && db.inTransaction) {
            try {
              db.run("ROLLBACK")
            } catch {
              // already ended by SQLite
            }
          }
          return new SqlError({ cause, message: `Failed to execute statement: ${String(cause)}` })
        }
      })
    const connection: Connection = {
      execute: (sql, params, transformRows) =>
        transformRows ? Effect.map(run(sql, params, false), transformRows) : run(sql, params, false),
      executeRaw: (sql, params) => run(sql, params, false),
      executeValues: (sql, params) => run(sql, params, true),
      executeUnprepared: (sql, params, transformRows) =>
        transformRows ? Effect.map(run(sql, params, false), transformRows) : run(sql, params, false),
      executeStream: () => Effect.dieMessage("executeStream is not supported by grove's SQLite connection")
    }
    // One connection: every query is serialised, and a transaction holds the permit until it ends.
    const semaphore = yield* Effect.makeSemaphore(1)
    const transactionAcquirer = Effect.uninterruptibleMask((restore) =>
      Effect.as(
        Effect.zipRight(
          restore(semaphore.take(1)),
          Effect.tap(Effect.scope, (scope) => Scope.addFinalizer(scope, semaphore.release(1)))
        ),
        connection
      )
    )
    return yield* SqlClient.make({
      acquirer: semaphore.withPermits(1)(Effect.succeed(connection)),
      transactionAcquirer,
      compiler: Statement.makeCompilerSqlite(),
      beginTransaction: "BEGIN IMMEDIATE",
      spanAttributes: [["db.system.name", "sqlite"]]
    })
  })
