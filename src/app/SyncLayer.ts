import { Sync } from "../sync/Sync.ts"
import { migrated, writeSteps } from "./CoreLayer.ts"

/** Sync (a pull) over the write path: without the Tracker, conflicts, remotes, bulk or replay. */
export const syncLayer = (cwd: string) => writeSteps(cwd).then(Sync.layer).layer

/** Runs `effect` with Sync, after bringing the schema up to date. */
export const withSync = (cwd: string) => migrated(syncLayer(cwd))
