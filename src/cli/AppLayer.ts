import type * as SqlClient from "@effect/sql/SqlClient"
import { BunContext } from "@effect/platform-bun"
import { Effect, Layer } from "effect"
import { Git } from "../git/Git.ts"
import { Repository } from "../git/Repository.ts"
import { Backup } from "../migrations/Backup.ts"
import { Migrations, Migrator } from "../migrations/Migrator.ts"
import { DatabaseLocation } from "../storage/DatabaseLocation.ts"
import { Sqlite } from "../storage/Sqlite.ts"
import { StorageConfig } from "../storage/StorageConfig.ts"

/** Git and the repository of the working directory. */
export const repositoryLayer = (cwd: string) =>
  Repository.fromCwd(cwd).pipe(Layer.provideMerge(Git.layer), Layer.provide(BunContext.layer))

/**
 * The open database with its migrator and backups, for a working directory.
 * Building it validates the environment first: a bad variable opens nothing.
 */
export const databaseLayer = (cwd: string) => {
  const located = DatabaseLocation.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(StorageConfig.fromEnv, repositoryLayer(cwd)))
  )
  const opened = Sqlite.layer().pipe(Layer.provideMerge(located))
  const backup = Backup.layer.pipe(Layer.provideMerge(opened))
  return Migrator.layer.pipe(Layer.provideMerge(Layer.merge(backup, Migrations.default)))
}

export type DatabaseServices = Layer.Layer.Success<ReturnType<typeof databaseLayer>> | SqlClient.SqlClient

/** Runs `effect` against a database migrated to the current schema. */
export const withDatabase = (cwd: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Migrator, (m) => m.ensureCurrent).pipe(Effect.zipRight(effect), Effect.provide(databaseLayer(cwd)))
