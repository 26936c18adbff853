import { Database } from "bun:sqlite"
import { Context, Effect, Layer } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { GroveError } from "../errors/index.ts"
import { Sqlite } from "../storage/Sqlite.ts"

export class BackupFailed extends GroveError("BackupFailed", "backup_failed") {}
export class BackupInvalid extends GroveError("BackupInvalid", "backup_invalid") {}

export interface RestoreReport {
  readonly restored: string
  /** The schema version the database is at now (the backup's). */
  readonly version: number
  /** The backup of the state just replaced: restoring it undoes the restore. */
  readonly previous: string
}

export interface BackupReport {
  readonly path: string
  readonly bytes: number
  /** Older backups removed by retention. */
  readonly removed: ReadonlyArray<string>
}

const stamp = (date: Date) => date.toISOString().replace(/[-:]/g, "").replace(".", "")

/** Lists this database's backups, newest first (names sort by their UTC stamp). */
export const listBackups = (databasePath: string): ReadonlyArray<string> => {
  const dir = NodePath.dirname(databasePath)
  const prefix = `${NodePath.basename(databasePath)}.backup-`
  if (!NodeFs.existsSync(dir)) return []
  return NodeFs.readdirSync(dir)
    .filter((name) => name.startsWith(prefix) && name.endsWith(".db"))
    .sort()
    .reverse()
    .map((name) => NodePath.join(dir, name))
}

/**
 * Consistent copies of the live database with VACUUM INTO, as timestamped files
 * beside it. The live database is not changed.
 */
export class Backup extends Context.Tag("grove/Backup")<Backup, {
  /** Writes a backup; with `retain`, keeps only the newest N backups afterwards. */
  readonly create: (options?: { readonly retain?: number }) => Effect.Effect<BackupReport, BackupFailed>
  /**
   * Replaces the live database's content with a backup's, in one write
   * transaction on the live connection (other processes see the old state or
   * the new, never a half), after backing up the current state.
   */
  readonly restore: (file: string) => Effect.Effect<RestoreReport, BackupFailed | BackupInvalid>
}>() {
  static readonly layer = Layer.effect(
    Backup,
    Effect.gen(function*() {
      const { db, path } = yield* Sqlite
      const create = (options: { readonly retain?: number } = {}) =>
        Effect.try({
          try: () => {
            // A two-digit suffix keeps same-millisecond backups in name order.
            const base = `${path}.backup-${stamp(new Date())}`
            let n = 0
            while (NodeFs.existsSync(`${base}-${String(n).padStart(2, "0")}.db`)) n++
            const target = `${base}-${String(n).padStart(2, "0")}.db`
            db.run("VACUUM INTO ?", [target])
            // The backup just written is never removed: retention keeps at least it.
            const removed = options.retain === undefined ? [] : listBackups(path).filter((b) => b !== target).slice(Math.max(options.retain - 1, 0))
            for (const old of removed) NodeFs.rmSync(old, { force: true })
            return { path: target, bytes: NodeFs.statSync(target).size, removed }
          },
          catch: (cause) =>
            new BackupFailed({
              message: `backup failed: ${cause instanceof Error ? cause.message : String(cause)}`,
              details: { database: path }
            })
        })
      const invalid = (file: string, why: string) =>
        new BackupInvalid({ message: `${file} cannot be restored: ${why}; nothing was changed`, details: { file } })

      /** Checks that `file` is a sound grove database; its schema version. */
      const inspect = (file: string) =>
        Effect.suspend(() => {
          if (!NodeFs.existsSync(file)) return Effect.fail(invalid(file, "no such file"))
          let other: Database | undefined
          try {
            other = new Database(file, { readonly: true })
            const check = (other.query("PRAGMA quick_check").all() as Array<{ quick_check: string }>).map((r) => r.quick_check)
            if (check.join() !== "ok") return Effect.fail(invalid(file, `SQLite quick_check failed: ${check.slice(0, 3).join("; ")}`))
            if (other.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'grove_migrations'").get() === null) {
              return Effect.fail(invalid(file, "it is not a grove database"))
            }
            return Effect.succeed((other.query("PRAGMA user_version").get() as { user_version: number }).user_version)
          } catch (e) {
            return Effect.fail(invalid(file, e instanceof Error ? e.message : String(e)))
          } finally {
            other?.close()
          }
        })

      const restore = (file: string) =>
        Effect.gen(function*() {
          const source = NodePath.resolve(file)
          if (source === NodePath.resolve(path)) return yield* invalid(file, "it is the live database")
          const version = yield* inspect(source)
          const previous = (yield* create()).path
          return yield* Effect.try({
            try: () => {
              db.run("ATTACH DATABASE ? AS restored", [source])
              try {
                db.transaction(() => {
                  // Every object of the live schema goes (triggers first: they guard the log), then the backup's
                  // tables come back with their rows, then its indexes and triggers.
                  const objects = (type: string, schema: "main" | "restored") =>
                    db.query(`SELECT name, tbl_name AS tbl, sql FROM ${schema}.sqlite_master WHERE type = ? AND name NOT LIKE 'sqlite_%' AND sql IS NOT NULL`)
                      .all(type) as Array<{ name: string; tbl: string; sql: string }>
                  for (const t of objects("trigger", "main")) db.run(`DROP TRIGGER main."${t.name}"`)
                  for (const t of objects("table", "main")) db.run(`DROP TABLE main."${t.name}"`)
                  for (const t of objects("table", "restored")) {
                    db.run(t.sql)
                    db.run(`INSERT INTO main."${t.name}" SELECT * FROM restored."${t.name}"`)
                  }
                  for (const type of ["index", "trigger"]) for (const o of objects(type, "restored")) db.run(o.sql)
                  db.run(`PRAGMA main.user_version = ${version}`)
                }).immediate()
              } finally {
                db.run("DETACH DATABASE restored")
              }
              return { restored: source, version, previous } satisfies RestoreReport
            },
            catch: (cause) =>
              new BackupFailed({
                message: `restoring ${source} failed and was rolled back: ${cause instanceof Error ? cause.message : String(cause)}`,
                details: { file: source, previous }
              })
          })
        })

      return { create, restore }
    })
  )
}
