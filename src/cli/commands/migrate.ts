import { Args, Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { InvalidInput } from "../../errors/index.ts"
import { Backup } from "../../migrations/Backup.ts"
import { Migrator, type MigrationRun } from "../../migrations/Migrator.ts"
import { databaseLayer } from "../../app/AppLayer.ts"
import { respond } from "../respond.ts"

const onDatabase = Effect.provide(databaseLayer(process.cwd()))

const runText = (verb: string, run: MigrationRun) =>
  [
    run.steps.length === 0 ? `Nothing to ${verb}: schema is at version ${run.to}` : `Migrated ${verb} from ${run.from} to ${run.to}`,
    ...run.steps.map((s) =>
      `  ${s.version} ${s.name}${"deletedRows" in s && s.deletedRows !== undefined ? ` (deleted ${s.deletedRows} rows)` : ""}`
    ),
    ...(run.backup ? [`Backup: ${run.backup}`] : [])
  ].join("\n")

const status = Command.make("status", {}, () =>
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
  )).pipe(Command.withDescription("Show applied and pending migrations."))

const up = Command.make("up", {}, () =>
  respond(
    "migrate up",
    Effect.flatMap(Migrator, (m) => m.up).pipe(
      Effect.map((run) => ({ data: run, text: runText("up", run) })),
      onDatabase
    )
  )).pipe(Command.withDescription("Apply every pending migration in one transaction."))

const down = Command.make(
  "down",
  { to: Options.integer("to").pipe(Options.withDescription("the schema version to return to")) },
  ({ to }) =>
    respond(
      "migrate down",
      Effect.flatMap(Migrator, (m) => m.down(to)).pipe(
        Effect.map((run) => ({ data: run, text: runText("down", run) })),
        onDatabase
      )
    )
).pipe(Command.withDescription("Revert migrations down to version N, after taking a backup."))

const backup = Command.make(
  "backup",
  {
    retain: Options.integer("retain").pipe(
      Options.withDescription("keep only the newest N backups"),
      Options.optional
    )
  },
  ({ retain }) =>
    respond(
      "migrate backup",
      Effect.gen(function*() {
        if (retain._tag === "Some" && retain.value < 1) {
          return yield* new InvalidInput({ message: `--retain must be at least 1 (the new backup is always kept), got ${retain.value}`, details: { flag: "retain" } })
        }
        const report = yield* (yield* Backup).create(retain._tag === "Some" ? { retain: retain.value } : {})
        return {
          data: report,
          text: [`Backup written to ${report.path} (${report.bytes} bytes)`, ...report.removed.map((r) => `  removed ${r}`)]
            .join("\n")
        }
      }).pipe(onDatabase)
    )
).pipe(Command.withDescription("Write a consistent copy of the database beside it (VACUUM INTO)."))

const restore = Command.make(
  "restore",
  { file: Args.text({ name: "backup" }).pipe(Args.withDescription("a backup file (grove migrate backup writes them beside the database)")) },
  ({ file }) =>
    respond(
      "migrate restore",
      Effect.flatMap(Backup, (b) => b.restore(file)).pipe(
        Effect.map((r) => ({
          data: r,
          text: `Restored ${r.restored} (schema ${r.version}). The state it replaced was backed up to ${r.previous}.`
        })),
        onDatabase
      )
    )
).pipe(Command.withDescription("Replace the database's content with a backup's, in one transaction, after backing up the current state."))

export const migrate = Command.make("migrate").pipe(
  Command.withDescription("Inspect and run schema migrations."),
  Command.withSubcommands([status, up, down, backup, restore])
)
