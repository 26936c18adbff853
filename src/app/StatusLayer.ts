import { Effect } from "effect"
import { Migrator } from "../migrations/Migrator.ts"
import { SyncStatus } from "../sync/Status.ts"
import { databaseSteps } from "./ReaderLayer.ts"

/**
 * `sync status`: the database and SyncStatus, which reads the log, knowledge and conflict records. A read:
 * none of the write path's layers or modules (CoreLayer.ts), as `next` without --claim (ReaderLayer.ts).
 */
export const statusLayer = (cwd: string) => databaseSteps(cwd).then(SyncStatus.layer).layer

/** Runs `effect` with SyncStatus, after bringing the schema up to date. */
export const withStatus = (cwd: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Migrator, (m) => m.ensureCurrent).pipe(Effect.zipRight(effect), Effect.provide(statusLayer(cwd)))
