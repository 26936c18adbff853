import { SyncStatus } from "../sync/Status.ts"
import { databaseSteps, migrated } from "./ReaderLayer.ts"

/**
 * `sync status`: the database and SyncStatus, which reads the log, knowledge and conflict records. A read:
 * none of the write path's layers or modules (CoreLayer.ts), as `next` without --claim (ReaderLayer.ts).
 */
export const statusLayer = (cwd: string) => databaseSteps(cwd).then(SyncStatus.layer).layer

/** Runs `effect` with SyncStatus, after bringing the schema up to date. */
export const withStatus = (cwd: string) => migrated(statusLayer(cwd))
