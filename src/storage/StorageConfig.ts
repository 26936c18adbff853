import { Context } from "effect"

/** Settings of the database connection, validated before anything is opened. */
export interface StorageSettings {
  /** GROVE_DB: an explicit database file, overriding the repository location. */
  readonly explicitPath: string | undefined
  /** GROVE_SQLITE_DURABILITY=full selects synchronous=FULL; default NORMAL. */
  readonly synchronous: "NORMAL" | "FULL"
  /** GROVE_SQLITE_CACHE_MIB: page cache size in MiB (default 64). */
  readonly cacheMiB: number
  /** GROVE_BUSY_TIMEOUT_MS: how long a writer waits for the lock (default 10000). */
  readonly busyTimeoutMs: number
}

/** The storage settings; the application reads them from the environment (src/app/Config.ts). */
export class StorageConfig extends Context.Tag("grove/StorageConfig")<StorageConfig, StorageSettings>() {}
