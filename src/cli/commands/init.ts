import { Command } from "@effect/cli"
import { Effect } from "effect"
import { Migrator } from "../../migrations/Migrator.ts"
import { Sqlite } from "../../storage/Sqlite.ts"
import { databaseLayer } from "../../app/AppLayer.ts"
import { respond } from "../respond.ts"

export const init = Command.make("init", {}, () =>
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
    }).pipe(Effect.provide(databaseLayer(process.cwd())))
  )).pipe(Command.withDescription("Create this repository's grove database (idempotent) and print where it is."))
