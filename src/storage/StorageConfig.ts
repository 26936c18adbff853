import { Context, Effect, Layer } from "effect"
import { InvalidInput } from "../errors/index.ts"

/** Settings read from the environment, validated before anything is opened. */
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

/**
 * An integer environment variable (unset or empty: `fallback`): digits only,
 * at least `min`, and a safe integer, so a huge value is refused rather than
 * rounded. Anything else is invalid_input naming the variable.
 */
export const integerVariable = (name: string, raw: string | undefined, fallback: number, min = 0) => {
  if (raw === undefined || raw === "") return Effect.succeed(fallback)
  const value = Number(raw.trim())
  return /^\d+$/.test(raw.trim()) && Number.isSafeInteger(value) && value >= min
    ? Effect.succeed(value)
    : Effect.fail(
      new InvalidInput({
        message: `${name} must be ${min === 0 ? "a non-negative" : "a positive"} integer no larger than ${Number.MAX_SAFE_INTEGER}, got ${JSON.stringify(raw)}`,
        details: { variable: name, value: raw }
      })
    )
}

export const readStorageSettings = (env: Record<string, string | undefined>) =>
  Effect.gen(function*() {
    const durability = env["GROVE_SQLITE_DURABILITY"]
    if (durability !== undefined && durability !== "" && durability !== "normal" && durability !== "full") {
      return yield* new InvalidInput({
        message: `GROVE_SQLITE_DURABILITY must be "normal" or "full", got ${JSON.stringify(durability)}`,
        details: { variable: "GROVE_SQLITE_DURABILITY", value: durability }
      })
    }
    const explicit = env["GROVE_DB"]
    return {
      explicitPath: explicit === undefined || explicit === "" ? undefined : explicit,
      synchronous: durability === "full" ? "FULL" : "NORMAL",
      cacheMiB: yield* integerVariable("GROVE_SQLITE_CACHE_MIB", env["GROVE_SQLITE_CACHE_MIB"], 64),
      busyTimeoutMs: yield* integerVariable("GROVE_BUSY_TIMEOUT_MS", env["GROVE_BUSY_TIMEOUT_MS"], 10_000)
    } satisfies StorageSettings
  })

export class StorageConfig extends Context.Tag("grove/StorageConfig")<StorageConfig, StorageSettings>() {
  static readonly fromEnv = Layer.effect(StorageConfig, readStorageSettings(process.env))
}
