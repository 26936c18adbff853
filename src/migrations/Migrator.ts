import { Context, Effect, Layer } from "effect"
import { GroveError } from "../errors/index.ts"
import { type DatabaseBusy, type DatabaseError, fromSqlCause, trySqlite } from "../storage/errors.ts"
import { Sqlite } from "../storage/Sqlite.ts"
import { Backup, type BackupFailed } from "./Backup.ts"
import { assertContiguous, checksum, isIrreversible, type Migration } from "./Migration.ts"
import { migrations } from "./list.ts"

export class MigrationChecksumMismatch extends GroveError("MigrationChecksumMismatch", "migration_checksum_mismatch") {}
export class MigrationFailed extends GroveError("MigrationFailed", "migration_failed") {}
export class MigrationIrreversible extends GroveError("MigrationIrreversible", "migration_irreversible") {}
export class MigrationTargetInvalid extends GroveError("MigrationTargetInvalid", "migration_target_invalid") {}
export class SchemaTooNew extends GroveError("SchemaTooNew", "schema_too_new") {}

/** The ordered migration list this build knows; tests provide their own. */
export class Migrations extends Context.Tag("grove/Migrations")<Migrations, ReadonlyArray<Migration>>() {
  static readonly default = Layer.succeed(Migrations, migrations)
}

export interface AppliedMigration {
  readonly version: number
  readonly name: string
  readonly checksum: string
  readonly appliedAt: string
}

export interface MigrationStatus {
  readonly current: number
  readonly latest: number
  readonly applied: ReadonlyArray<AppliedMigration & { readonly checksumMatches: boolean }>
  readonly pending: ReadonlyArray<{ readonly version: number; readonly name: string }>
}

export interface MigrationRun {
  readonly from: number
  readonly to: number
  readonly steps: ReadonlyArray<{ readonly version: number; readonly name: string; readonly deletedRows?: number }>
  readonly backup: string | undefined
}

const ledger = `CREATE TABLE IF NOT EXISTS grove_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  checksum TEXT NOT NULL,
  applied_at TEXT NOT NULL
)`

/**
 * Applies and reverts the migration list. Pending steps run in one BEGIN
 * IMMEDIATE transaction: all or nothing, so a failure leaves the schema as it
 * was. `PRAGMA user_version` mirrors the newest applied version, so a warm
 * start is one PRAGMA read.
 */
export class Migrator extends Context.Tag("grove/Migrator")<Migrator, {
  readonly status: Effect.Effect<MigrationStatus, MigrationError>
  readonly up: Effect.Effect<MigrationRun, MigrationError>
  /** Fast path for every command: nothing but `user_version` when current. */
  readonly ensureCurrent: Effect.Effect<void, MigrationError>
  readonly down: (to: number) => Effect.Effect<MigrationRun, MigrationError>
}>() {
  static readonly layer = Layer.effect(
    Migrator,
    Effect.gen(function*() {
      const { db } = yield* Sqlite
      const backup = yield* Backup
      const list = yield* Migrations
      assertContiguous(list)
      const latest = list.length

      const userVersion = trySqlite(() => (db.query("PRAGMA user_version").get() as { user_version: number }).user_version)
      const readApplied = trySqlite(() => {
        db.run(ledger)
        return (db.query("SELECT version, name, checksum, applied_at AS appliedAt FROM grove_migrations ORDER BY version")
          .all() as Array<AppliedMigration>)
      })

      const status = Effect.gen(function*() {
        const applied = yield* readApplied
        const current = yield* userVersion
        return {
          current,
          latest,
          applied: applied.map((a) => {
            const known = list[a.version - 1]
            return { ...a, checksumMatches: known !== undefined && checksum(known) === a.checksum }
          }),
          pending: list.filter((m) => m.version > current).map(({ name, version }) => ({ version, name }))
        } satisfies MigrationStatus
      })

      const checkRecorded = (applied: ReadonlyArray<AppliedMigration>, current: number) =>
        Effect.gen(function*() {
          if (current > latest) {
            return yield* new SchemaTooNew({
              message: `the database is at schema version ${current}, newer than this grove knows (${latest}); upgrade grove`,
              details: { current, latest }
            })
          }
          for (const a of applied) {
            const known = list[a.version - 1]
            if (known === undefined || checksum(known) !== a.checksum) {
              return yield* new MigrationChecksumMismatch({
                message: `migration ${a.version} (${a.name}) was changed after it was applied; refusing to run`,
                details: { version: a.version, recorded: a.checksum, expected: known ? checksum(known) : null }
              })
            }
          }
        })

      const probe = (m: Migration) =>
        m.destructive === undefined
          ? false
          : (() => {
            try {
              return Object.values(db.query(m.destructive.probe).get() as object)[0] === 1
            } catch {
              return false // the probed table does not exist yet: nothing to delete
            }
          })()

      /** Runs `work` in one BEGIN IMMEDIATE transaction; a throw rolls all of it back. */
      const inTransaction = <A>(label: string, work: () => A) =>
        Effect.try({
          try: () => db.transaction(work).immediate(),
          catch: (cause) => {
            const coded = fromSqlCause(cause)
            return coded._tag === "DatabaseBusy" ? coded : new MigrationFailed({
              message: `${label} failed and was rolled back: ${cause instanceof Error ? cause.message : String(cause)}`,
              details: { cause: cause instanceof Error ? cause.message : String(cause) }
            })
          }
        })

      const up = Effect.gen(function*() {
        const applied = yield* readApplied
        const from = yield* userVersion
        yield* checkRecorded(applied, from)
        const pending = list.filter((m) => m.version > from)
        if (pending.length === 0) return { from, to: from, steps: [], backup: undefined } satisfies MigrationRun
        const needsBackup = from > 0 && pending.some(probe)
        const taken = needsBackup ? (yield* backup.create()).path : undefined
        const applying = yield* inTransaction(`migration to version ${latest}`, () => {
          // Another process (a second worktree starting at the same time) may have migrated while this one
          // waited for the write lock: apply only what is still pending now that the lock is held.
          const now = (db.query("PRAGMA user_version").get() as { user_version: number }).user_version
          const steps = list.filter((m) => m.version > now).map((m) => {
            let deletedRows: number | undefined
            if (m.destructive !== undefined && probe(m)) deletedRows = db.run(m.destructive.delete).changes
            try {
              db.run(m.up)
              m.upCode?.(db)
            } catch (cause) {
              throw new Error(`migration ${m.version} (${m.name}): ${cause instanceof Error ? cause.message : String(cause)}`)
            }
            db.run("INSERT INTO grove_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)", [
              m.version,
              m.name,
              checksum(m),
              new Date().toISOString()
            ])
            db.run(`PRAGMA user_version = ${m.version}`)
            return deletedRows === undefined ? { version: m.version, name: m.name } : { version: m.version, name: m.name, deletedRows }
          })
          return { from: now, to: steps.length > 0 ? latest : now, steps }
        })
        return { ...applying, backup: taken } satisfies MigrationRun
      })

      const ensureCurrent = Effect.flatMap(userVersion, (v) => (v === latest ? Effect.void : Effect.asVoid(up)))

      const down = (to: number) =>
        Effect.gen(function*() {
          const applied = yield* readApplied
          const from = yield* userVersion
          yield* checkRecorded(applied, from)
          if (!Number.isInteger(to) || to < 0 || to >= from) {
            return yield* new MigrationTargetInvalid({
              message: `cannot migrate down to ${to}: the database is at version ${from}; pick 0..${Math.max(from - 1, 0)}`,
              details: { current: from, to }
            })
          }
          const reverting = list.slice(to, from).reverse()
          const blocker = reverting.find(isIrreversible)
          if (blocker !== undefined) {
            return yield* new MigrationIrreversible({
              message:
                `migration ${blocker.version} (${blocker.name}) cannot be reverted; restore a backup instead (grove migrate backup writes one; older ones sit beside the database)`,
              details: { version: blocker.version, name: blocker.name }
            })
          }
          const taken = (yield* backup.create()).path
          const steps = yield* inTransaction(`migration down to version ${to}`, () => {
            const now = (db.query("PRAGMA user_version").get() as { user_version: number }).user_version
            if (now !== from) {
              throw new Error(`another process migrated the database to version ${now} meanwhile; run migrate down again`)
            }
            return reverting.map((m) => {
              db.run(m.down as string)
              db.run("DELETE FROM grove_migrations WHERE version = ?", [m.version])
              db.run(`PRAGMA user_version = ${m.version - 1}`)
              return { version: m.version, name: m.name }
            })
          })
          return { from, to, steps, backup: taken } satisfies MigrationRun
        })

      return { status, up, ensureCurrent, down }
    })
  )
}

export type MigrationError =
  | MigrationChecksumMismatch
  | MigrationFailed
  | MigrationIrreversible
  | MigrationTargetInvalid
  | SchemaTooNew
  | DatabaseBusy
  | DatabaseError
  | BackupFailed
