import { Context, Effect, Layer } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { GroveError } from "../errors/index.ts"
import { Sqlite } from "../storage/Sqlite.ts"

export class BackupFailed extends GroveError("BackupFailed", "backup_failed") {}

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
      return { create }
    })
  )
}
