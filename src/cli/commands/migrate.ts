import { Effect } from "effect"
import { databaseLayer } from "../../app/AppLayer.ts"
import { InvalidInput } from "../../errors/index.ts"
import { Backup } from "../../migrations/Backup.ts"
import { type MigrationRun, Migrator } from "../../migrations/Migrator.ts"
import { Sqlite } from "../../storage/Sqlite.ts"
import type { Handler } from "../execute.ts"
import { respond } from "../respond.ts"
import type { Input } from "../spec.ts"

/** init and migrate: the commands that work on the database file itself, before or without the tracker. */

const onDatabase = Effect.provide(databaseLayer(process.cwd()))

const runText = (verb: string, run: MigrationRun) =>
  [
    run.steps.length === 0 ? `Nothing to ${verb}: schema is at version ${run.to}` : `Migrated ${verb} from ${run.from} to ${run.to}`,
    ...run.steps.map((s) =>
      `  ${s.version} ${s.name}${"deletedRows" in s && s.deletedRows !== undefined ? ` (deleted ${s.deletedRows} rows)` : ""}`
    ),
    ...(run.backup ? [`Backup: ${run.backup}`] : [])
  ].join("\n")

const init: Handler = () =>
  respond(
    "init",
    Effect.gen(function*() {
      const { path } = yield* Sqlite
      const run = yield* (yield* Migrator).up
      const created = run.from === 0 && run.steps.length > 0
      return {
        data: { database: path, created, schemaVersion: run.to, applied: run.steps },
        text: created
          ? `Initialized grove database at ${path} (schema version ${run.to})`
          : run.steps.length > 0
          ? `Upgraded grove database at ${path} to schema version ${run.to}`
          : `grove database already initialized at ${path} (schema version ${run.to})`
      }
    }).pipe(onDatabase)
  )

const status: Handler = () =>
  respond(
    "migrate status",
    Effect.gen(function*() {
      const s = yield* (yield* Migrator).status
      const lines = [
        `Schema version ${s.current} of ${s.latest}`,
        ...s.applied.map((a) => `  applied ${a.version} ${a.name} ${a.checksumMatches ? "" : "(CHECKSUM CHANGED)"}`.trimEnd()),
        ...s.pending.map((p) => `  pending ${p.version} ${p.name}`)
      ]
      return { data: s, text: lines.join("\n") }
    }).pipe(onDatabase)
  )

const up: Handler = () =>
  respond(
    "migrate up",
    Effect.flatMap(Migrator, (m) => m.up).pipe(
      Effect.map((run) => ({ data: run, text: runText("up", run) })),
      onDatabase
    )
  )

const down: Handler = (o: Input) =>
  respond(
    "migrate down",
    Effect.flatMap(Migrator, (m) => m.down(o.integer("to")!)).pipe(
      Effect.map((run) => ({ data: run, text: runText("down", run) })),
      onDatabase
    )
  )

const backup: Handler = (o: Input) =>
  respond(
    "migrate backup",
    Effect.gen(function*() {
      const retain = o.integer("retain")
      if (retain !== undefined && retain < 1) {
        return yield* new InvalidInput({ message: `--retain must be at least 1 (the new backup is always kept), got ${retain}`, details: { flag: "retain" } })
      }
      const report = yield* (yield* Backup).create(retain !== undefined ? { retain } : {})
      return {
        data: report,
        text: [`Backup written to ${report.path} (${report.bytes} bytes)`, ...report.removed.map((r) => `  removed ${r}`)]
          .join("\n")
      }
    }).pipe(onDatabase)
  )

const restore: Handler = (o: Input) =>
  respond(
    "migrate restore",
    Effect.flatMap(Backup, (b) => b.restore(o.required("backup"))).pipe(
      Effect.map((r) => ({
        data: r,
        text: `Restored ${r.restored} (schema ${r.version}). The state it replaced was backed up to ${r.previous}.`
      })),
      onDatabase
    )
  )

export const handlers: Record<string, Handler> = {
  "migrate restore": restore,
  init,
  "migrate status": status,
  "migrate up": up,
  "migrate down": down,
  "migrate backup": backup
}
