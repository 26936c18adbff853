/**
 * Running grove's Effect services in a test: as one grove command in a
 * worktree (withTracker, exactly as the CLI does), or over a fixed database
 * file with grove's own Sqlite layer.
 */
import { Effect, Layer, type Scope } from "effect"
import { trackerLayer, withTracker } from "../../src/app/AppLayer.ts"
import { isGroveFailure } from "../../src/errors/index.ts"
import { configLayer } from "../../src/app/Config.ts"
import { DatabaseLocation } from "../../src/storage/DatabaseLocation.ts"
import { Sqlite } from "../../src/storage/Sqlite.ts"
import { Claims } from "../../src/tracker/Claims.ts"
import type { EnvPatch } from "./env.ts"

export const run = <A, E>(self: Effect.Effect<A, E, Scope.Scope>): Promise<A> => Effect.runPromise(Effect.scoped(self))

/** Runs an effect and returns its failure (or throws if it succeeded). */
export const flipRun = <A, E>(self: Effect.Effect<A, E, Scope.Scope>): Promise<E> =>
  Effect.runPromise(Effect.scoped(Effect.flip(self)))

/** Every service a tracker command can use. */
export type TrackerServices = Layer.Layer.Success<ReturnType<typeof trackerLayer>>

/** A task claim as `grove task claim` makes it. */
export const claimTask = (id: string, owner: string, ifVersion?: number) =>
  Effect.flatMap(Claims, (c) => c.claim("task", id, { owner, ifVersion }))

/** Runs `effect` as one grove command in the worktree at `cwd` and returns its value. */
export const inWorktree = <A, E>(cwd: string, effect: Effect.Effect<A, E, TrackerServices>): Promise<A> =>
  run(withTracker(cwd)(effect))

export interface CodedFailure {
  readonly code: string
  readonly message: string
  readonly details: Record<string, any>
}

/** Runs `effect` as one grove command in `cwd`, expecting a coded failure; returns it. */
export const failureIn = async <A, E>(cwd: string, effect: Effect.Effect<A, E, TrackerServices>): Promise<CodedFailure> => {
  const error: unknown = await flipRun(withTracker(cwd)(effect))
  if (!isGroveFailure(error)) throw new Error(`expected a coded grove failure, got ${String(error)}`)
  return { code: error.code, message: error.message, details: (error.details ?? {}) as Record<string, any> }
}

/** grove's Sqlite layer over the file at `path`, with settings read from `env` (not process.env); also provides its location and config. */
export const sqliteAt = (path: string, env: EnvPatch = {}, options: { readonly readonly?: boolean } = {}) =>
  Sqlite.layer(options).pipe(Layer.provideMerge(Layer.merge(DatabaseLocation.at(path), configLayer(env))))
