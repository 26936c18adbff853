import { Effect } from "effect"
import { Migrator } from "../migrations/Migrator.ts"
import { Sync } from "../sync/Sync.ts"
import { writeSteps } from "./CoreLayer.ts"

/** Sync (a pull) over the write path: without the Tracker, conflicts, remotes, bulk or replay. */
export const syncLayer = (cwd: string) => writeSteps(cwd).then(Sync.layer).layer

/** Runs `effect` with Sync, after bringing the schema up to date. */
export const withSync = (cwd: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Migrator, (m) => m.ensureCurrent).pipe(Effect.zipRight(effect), Effect.provide(syncLayer(cwd)))
