import { Context, Effect, Either, Layer } from "effect"
import { InvalidInput } from "../errors/index.ts"
import { StorageConfig, type StorageSettings } from "../storage/StorageConfig.ts"
import { SyncConfig } from "../sync/SyncConfig.ts"

/**
 * Every GROVE_* variable, read in this one place and validated before
 * anything is opened. A bad value is `invalid_input` naming the variable and
 * the value; an empty one means the default. Plain parsing rather than
 * effect's `Config`: building those Config values cost more than any other
 * service of a one-row command (docs/decisions.md, "Start-up").
 */

type Environment = Readonly<Record<string, string | undefined>>

/** A variable parsed by `parse` (undefined: not valid), `fallback` when unset or empty. */
const variable = <A>(name: string, fallback: A, expected: string, parse: (raw: string) => A | undefined) =>
  (env: Environment): Either.Either<A, InvalidInput> => {
    const raw = env[name]
    if (raw === undefined || raw.trim() === "") return Either.right(fallback)
    const value = parse(raw.trim())
    return value === undefined
      ? Either.left(new InvalidInput({ message: `${name} must be ${expected}, got ${JSON.stringify(raw)}`, details: { variable: name, value: raw } }))
      : Either.right(value)
  }

const integerAtLeast = (min: number) => (raw: string) =>
  /^\d+$/.test(raw) && Number.isSafeInteger(Number(raw)) && Number(raw) >= min ? Number(raw) : undefined

const storageVariables = {
  explicitPath: variable<string | undefined>("GROVE_DB", undefined, "a path", (raw) => raw),
  synchronous: variable<"NORMAL" | "FULL">("GROVE_SQLITE_DURABILITY", "NORMAL", `"normal" or "full"`, (raw) =>
    raw === "normal" ? "NORMAL" : raw === "full" ? "FULL" : undefined),
  cacheMiB: variable("GROVE_SQLITE_CACHE_MIB", 64, "a non-negative integer", integerAtLeast(0)),
  busyTimeoutMs: variable("GROVE_BUSY_TIMEOUT_MS", 10_000, "a non-negative integer", integerAtLeast(0))
}

const pullBatch = variable("GROVE_PULL_BATCH", 10_000, "a positive integer", integerAtLeast(1))

/** The storage settings in `env` (GROVE_DB, GROVE_SQLITE_DURABILITY, GROVE_SQLITE_CACHE_MIB, GROVE_BUSY_TIMEOUT_MS); the first bad one fails. */
export const readStorageSettings = (env: Environment): Effect.Effect<StorageSettings, InvalidInput> =>
  Effect.suspend(() => Either.all({
    explicitPath: storageVariables.explicitPath(env),
    synchronous: storageVariables.synchronous(env),
    cacheMiB: storageVariables.cacheMiB(env),
    busyTimeoutMs: storageVariables.busyTimeoutMs(env)
  }))

/** The process environment's settings as the layers storage and sync read; built once per command, as one layer. */
export const configLayer = (env: Environment = process.env) =>
  Layer.effectContext(
    Effect.zipWith(readStorageSettings(env), Effect.suspend(() => pullBatch(env)), (storage, batchSize) =>
      Context.make(StorageConfig, storage).pipe(Context.add(SyncConfig, { pullBatchSize: batchSize })))
  )

/** GROVE_ACTOR, when set: the actor stamped on events instead of git's user.email. */
export const actorFrom = (env: Environment): string | undefined => env["GROVE_ACTOR"] || undefined

/** GROVE_DEBUG=1: a defect prints its stack as well as the `internal` envelope. */
export const debugFrom = (env: Environment): boolean => env["GROVE_DEBUG"] === "1"
