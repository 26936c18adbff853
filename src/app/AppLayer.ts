import { Effect, Layer } from "effect"
import { Migrator } from "../migrations/Migrator.ts"
import { Replay } from "../projections/Replay.ts"
import { Quarantine } from "../remote/Quarantine.ts"
import { Remote } from "../remote/Remote.ts"
import { Conflicts } from "../sync/Conflicts.ts"
import { InvariantConflicts } from "../sync/InvariantConflicts.ts"
import { Sync } from "../sync/Sync.ts"
import { Bulk } from "../tracker/Bulk.ts"
import { type ContextLayer, coreLayer } from "./CoreLayer.ts"

export { databaseLayer, readerLayer, repositoryLayer, withReader } from "./CoreLayer.ts"

/** Everything the tracker commands need, over the migrated database (`context`: see coreLayer). */
export const trackerLayer = (cwd: string, context?: ContextLayer) => {
  const remote = Remote.layer.pipe(Layer.provideMerge(coreLayer(cwd, context)))
  return Layer.mergeAll(Bulk.layer, Sync.layer, InvariantConflicts.layer.pipe(Layer.provideMerge(Conflicts.layer)), Quarantine.layer, Replay.layer).pipe(Layer.provideMerge(remote))
}

/** Runs `effect` in the worktree at `cwd` with the tracker services, after bringing the schema up to date. */
export const withTracker = (cwd: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Migrator, (m) => m.ensureCurrent).pipe(Effect.zipRight(effect), Effect.provide(trackerLayer(cwd)))
