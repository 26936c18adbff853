import { it } from "bun:test"
import { Cause, Effect, Exit, Layer, type Scope } from "effect"

const runTest = <A, E>(self: Effect.Effect<A, E, Scope.Scope>): Promise<void> =>
  Effect.runPromiseExit(Effect.scoped(self)).then((exit) => {
    if (Exit.isFailure(exit)) throw new Error(Cause.pretty(exit.cause))
  })

/** A bun:test case whose body is an Effect. */
export const itEffect = <A, E>(name: string, body: () => Effect.Effect<A, E, Scope.Scope>, ms?: number) =>
  it(name, () => runTest(body()), ms)

/** Like itEffect, with a fresh copy of `layer` per test. */
export const itLayer = <ROut, E2>(layer: Layer.Layer<ROut, E2>) =>
<A, E>(name: string, body: () => Effect.Effect<A, E, ROut | Scope.Scope>, ms?: number) =>
  it(name, () => runTest(body().pipe(Effect.provide(Layer.fresh(layer)))), ms)

/** Runs an effect and returns its failure (or throws if it succeeded). */
export const flipRun = <A, E>(self: Effect.Effect<A, E, Scope.Scope>): Promise<E> =>
  Effect.runPromise(Effect.scoped(Effect.flip(self)))

export const run = <A, E>(self: Effect.Effect<A, E, Scope.Scope>): Promise<A> => Effect.runPromise(Effect.scoped(self))
