import { Effect, Layer } from "effect"
import { EventStore } from "../events/EventStore.ts"
import { GitContext } from "../events/GitContext.ts"
import { Git } from "../git/Git.ts"
import { Repository } from "../git/Repository.ts"
import { Backup } from "../migrations/Backup.ts"
import { Migrations, Migrator } from "../migrations/Migrator.ts"
import { Projector } from "../projections/Projector.ts"
import { Queries } from "../projections/Queries.ts"
import { Replay } from "../projections/Replay.ts"
import { Remote } from "../remote/Remote.ts"
import { Conflicts } from "../sync/Conflicts.ts"
import { Detector } from "../sync/Detector.ts"
import { Sync } from "../sync/Sync.ts"
import { Writer } from "../sync/Writer.ts"
import { Bulk } from "../tracker/Bulk.ts"
import { Claims } from "../tracker/Claims.ts"
import { Next } from "../tracker/Next.ts"
import { Tracker } from "../tracker/Tracker.ts"
import { Work } from "../projections/Work.ts"
import { DatabaseLocation } from "../storage/DatabaseLocation.ts"
import { Sqlite } from "../storage/Sqlite.ts"
import { StorageConfig } from "../storage/StorageConfig.ts"

/** Git and the repository of the working directory. */
export const repositoryLayer = (cwd: string) => Repository.fromCwd(cwd).pipe(Layer.provideMerge(Git.layer))

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

/** What read-only queries need: the database and its projection reads (a fraction of a cold start's layers). */
export const readerLayer = (cwd: string) => Layer.merge(Queries.layer, Work.layer).pipe(Layer.provideMerge(databaseLayer(cwd)))

/** Runs a read-only `effect` in the worktree at `cwd`, after bringing the schema up to date. */
export const withReader = (cwd: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Migrator, (m) => m.ensureCurrent).pipe(Effect.zipRight(effect), Effect.provide(readerLayer(cwd)))

/**
 * Everything the tracker commands need, over the migrated database. A command
 * resolves its git context once; a long-lived server passes `GitContext.live`.
 */
export const trackerLayer = (cwd: string, context: Layer.Layer<GitContext, never, Git | Repository> = GitContext.layer(process.env)) => {
  const database = databaseLayer(cwd)
  const events = EventStore.layer.pipe(Layer.provideMerge(context), Layer.provideMerge(database))
  const projections = Layer.mergeAll(Projector.layer, Queries.layer, Replay.layer, Detector.layer).pipe(Layer.provideMerge(events))
  const writer = Writer.layer.pipe(Layer.provideMerge(projections))
  const tracker = Tracker.layer.pipe(Layer.provideMerge(Work.layer.pipe(Layer.provideMerge(writer))))
  const loop = Next.layer.pipe(Layer.provideMerge(Claims.layer), Layer.provideMerge(tracker))
  return Layer.mergeAll(Bulk.layer, Sync.layer, Conflicts.layer, Remote.layer).pipe(Layer.provideMerge(loop))
}

/** Runs `effect` in the worktree at `cwd` with the tracker services, after bringing the schema up to date. */
export const withTracker = (cwd: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Migrator, (m) => m.ensureCurrent).pipe(Effect.zipRight(effect), Effect.provide(trackerLayer(cwd)))
