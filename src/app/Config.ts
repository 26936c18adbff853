import { Config, ConfigError, ConfigProvider, Effect, Either, Layer } from "effect"
import { InvalidInput } from "../errors/index.ts"
import { StorageConfig, type StorageSettings } from "../storage/StorageConfig.ts"
import { SyncConfig } from "../sync/SyncConfig.ts"

/**
 * Every GROVE_* variable, read in this one place with effect's Config and
 * validated before anything is opened. A bad value is `invalid_input` naming
 * the variable and the value; an empty one means the default.
 */

type Environment = Readonly<Record<string, string | undefined>>

/** A variable parsed by `parse` (undefined: not valid), `fallback` when unset or empty. */
const variable = <A>(name: string, fallback: A, expected: string, parse: (raw: string) => A | undefined) =>
  Config.string(name).pipe(
    Config.mapOrFail((raw) => {
      if (raw.trim() === "") return Either.right(fallback)
      const value = parse(raw.trim())
      return value === undefined
        ? Either.left(ConfigError.InvalidData([name], `${name} must be ${expected}, got ${JSON.stringify(raw)}`))
        : Either.right(value)
    }),
    Config.withDefault(fallback)
  )

const integerAtLeast = (min: number) => (raw: string) =>
  /^\d+$/.test(raw) && Number.isSafeInteger(Number(raw)) && Number(raw) >= min ? Number(raw) : undefined

const storageConfig = Config.all({
  explicitPath: variable<string | undefined>("GROVE_DB", undefined, "a path", (raw) => raw),
  synchronous: variable<"NORMAL" | "FULL">("GROVE_SQLITE_DURABILITY", "NORMAL", `"normal" or "full"`, (raw) =>
    raw === "normal" ? "NORMAL" : raw === "full" ? "FULL" : undefined),
  cacheMiB: variable("GROVE_SQLITE_CACHE_MIB", 64, "a non-negative integer", integerAtLeast(0)),
  busyTimeoutMs: variable("GROVE_BUSY_TIMEOUT_MS", 10_000, "a non-negative integer", integerAtLeast(0))
})

const pullBatch = variable("GROVE_PULL_BATCH", 2000, "a positive integer", integerAtLeast(1))

/** The ConfigError of a bad value as grove's coded error, naming the variable and the value. */
const asInvalidInput = (env: Environment) => (error: ConfigError.ConfigError) => {
  const found = ConfigError.reduceWithContext(error, undefined, {
    andCase: (_, left: { path: ReadonlyArray<string>; message: string } | undefined, right) => left ?? right,
    orCase: (_, left: { path: ReadonlyArray<string>; message: string } | undefined, right) => left ?? right,
    invalidDataCase: (_, path, message) => ({ path, message }),
    missingDataCase: (_, path, message) => ({ path, message }),
    sourceUnavailableCase: (_, path, message) => ({ path, message }),
    unsupportedCase: (_, path, message) => ({ path, message })
  })
  const name = found?.path.at(-1) ?? "GROVE_*"
  return new InvalidInput({ message: found?.message ?? String(error), details: { variable: name, value: env[name] } })
}

const read = <A>(config: Config.Config<A>, env: Environment) =>
  Effect.withConfigProvider(
    Effect.mapError(config, asInvalidInput(env)),
    ConfigProvider.fromMap(new Map(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)))
  )

/** The storage settings in `env` (GROVE_DB, GROVE_SQLITE_DURABILITY, GROVE_SQLITE_CACHE_MIB, GROVE_BUSY_TIMEOUT_MS). */
export const readStorageSettings = (env: Environment): Effect.Effect<StorageSettings, InvalidInput> => read(storageConfig, env)

/** The process environment's settings as the layers storage and sync read; built once per command. */
export const configLayer = (env: Environment = process.env) =>
  Layer.merge(
    Layer.effect(StorageConfig, readStorageSettings(env)),
    Layer.effect(SyncConfig, Effect.map(read(pullBatch, env), (batchSize) => ({ pullBatchSize: batchSize })))
  )

/** GROVE_ACTOR, when set: the actor stamped on events instead of git's user.email. */
export const actorFrom = (env: Environment): string | undefined => env["GROVE_ACTOR"] || undefined

/** GROVE_DEBUG=1: a defect prints its stack as well as the `internal` envelope. */
export const debugFrom = (env: Environment): boolean => env["GROVE_DEBUG"] === "1"
