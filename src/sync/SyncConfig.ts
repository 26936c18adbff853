import { Context } from "effect"

/** Settings of sync, read from the environment by the application (src/app/Config.ts). */
export class SyncConfig extends Context.Tag("grove/SyncConfig")<SyncConfig, {
  /** GROVE_PULL_BATCH: events per pull transaction (default 10,000). */
  readonly pullBatchSize: number
}>() {}
