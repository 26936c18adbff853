import { Effect, Layer } from "effect"
import { GitContext } from "../events/GitContext.ts"
import { Git } from "../git/Git.ts"
import { Repository } from "../git/Repository.ts"
import { Backup } from "../migrations/Backup.ts"
import { Migrations, Migrator } from "../migrations/Migrator.ts"
import { Queries } from "../projections/Queries.ts"
import { Work } from "../projections/Work.ts"
import { DatabaseLocation } from "../storage/DatabaseLocation.ts"
import { Sqlite } from "../storage/Sqlite.ts"
import { Pick } from "../tracker/Pick.ts"
import { actorFrom, configLayer } from "./Config.ts"
import { inOrder, provideBuilt } from "./inOrder.ts"

/**
 * The layers of a read: the database and the projection reads. Apart from
 * CoreLayer (the write path) so that a read loads none of the write path's
 * modules: start-up is part of every command (benchmarks/latency.ts).
 */

/** Git and the repository of the working directory. */
export const repositoryLayer = (cwd: string) => Repository.fromCwd(cwd).pipe(Layer.provideMerge(Git.layer))

/**
 * The open database with its migrator and backups, for a working
 * directory, as steps later layers can extend.
 * Building it validates the environment first: a bad variable opens nothing.
 */
export const databaseSteps = (cwd: string) =>
  inOrder(configLayer())
    .then(Git.layer)
    .then(Repository.fromCwd(cwd))
    .then(DatabaseLocation.layer)
    .then(Sqlite.layer())
    .then(Backup.layer)
    .then(Migrations.default)
    .then(Migrator.layer)

/** The open database with its migrator and backups, for a working directory. */
export const databaseLayer = (cwd: string) => databaseSteps(cwd).layer

/** What read-only queries need: the database and its projection reads (a fraction of a cold start's layers). */
export const readerLayer = (cwd: string) => databaseSteps(cwd).then(Queries.layer).then(Work.layer).layer

/** Runs `effect` with `layer`, after bringing the schema up to date (every command but `migrate`). */
export const migrated = <ROut, E1>(layer: Layer.Layer<ROut, E1>) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Migrator, (m) => m.ensureCurrent).pipe(Effect.zipRight(effect), provideBuilt(layer))

/** Runs a read-only `effect` in the worktree at `cwd`, after bringing the schema up to date. */
export const withReader = (cwd: string) => migrated(readerLayer(cwd))

/** `next` without a claim: the projection reads, who acts (the git context's actor) and the pick; no write path. */
export const pickerLayer = (cwd: string) =>
  databaseSteps(cwd).then(Queries.layer).then(Work.layer).then(GitContext.layer(actorFrom(process.env))).then(Pick.layer).layer

/** Runs `effect` with the pick of `next`, after bringing the schema up to date. */
export const withPicker = (cwd: string) => migrated(pickerLayer(cwd))
