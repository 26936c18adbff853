import { Context, Effect, Layer, Scope } from "effect"

/**
 * Services built one after another in one scope, each layer seeing everything
 * built before it: `inOrder(a).then(b).then(c).layer` provides what
 * `c.pipe(Layer.provideMerge(b.pipe(Layer.provideMerge(a))))` provides, and
 * releases it in reverse order. It exists for start-up: building a nested
 * graph of layers (a memo map, scopes and fibers per node, parallel merges)
 * cost a one-row command more than all of its own work, and building the same
 * layers in a flat sequence roughly halves that (docs/decisions.md, "Start-up").
 * Each layer is listed once, so nothing needs memoising.
 */
export interface InOrder<ROut, E, RIn> {
  /** Adds a layer built after the ones before, with their services available to it. */
  readonly then: <A, E2, R2>(layer: Layer.Layer<A, E2, R2>) => InOrder<ROut | A, E | E2, RIn | Exclude<R2, ROut>>
  readonly layer: Layer.Layer<ROut, E, RIn>
}

/**
 * What building `layer` amounts to here. A `Layer.effect`, `succeed`, `sync`
 * or `effectContext` layer is an effect of its services, and a `Layer.scoped`
 * one the same effect over the enclosing scope: `Layer.build` would memoise
 * each in a memo map of its own, behind a semaphore, with a scope and
 * finalizer refs per layer: more than half of a write's layer building (37
 * against 16 ms of CPU), for nothing, since each layer is listed once
 * (docs/decisions.md, "Start-up"). Their effect is run directly, so a scoped layer's finalizers
 * join the enclosing scope, which closes them in reverse order as before.
 * Anything composed (`Layer.merge`, `provideMerge`, ...) goes through
 * `Layer.build`. The tags are effect's own layer opcodes (`internal/opCodes/layer.js`);
 * test/inOrder.test.ts fails if an effect layer stops taking this path.
 */
export const construction = <A, E, R>(layer: Layer.Layer<A, E, R>): Effect.Effect<Context.Context<A>, E, R | Scope.Scope> => {
  const node = layer as unknown as { readonly _op_layer?: unknown; readonly effect?: Effect.Effect<Context.Context<A>, E, R> }
  return (node._op_layer === "FromEffect" || node._op_layer === "Scoped") && node.effect !== undefined
    ? node.effect
    : Layer.build(layer)
}

/**
 * `Effect.provide(layer)`, built as above: the services live in a scope that
 * closes, in reverse order, when `effect` ends (a command's whole run).
 */
export const provideBuilt = <ROut, E1, RIn>(layer: Layer.Layer<ROut, E1, RIn>) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | E1, RIn | Exclude<R, ROut>> =>
  Effect.scopedWith((scope) => Effect.flatMap(Scope.extend(construction(layer), scope), (context) => Effect.provide(effect, context)))

const sequence = (layers: ReadonlyArray<Layer.Layer<any, any, any>>): InOrder<any, any, any> => ({
  then: (layer) => sequence([...layers, layer]),
  layer: Layer.scopedContext(Effect.gen(function*() {
    let context = Context.empty() as Context.Context<any>
    for (const layer of layers) context = Context.merge(context, yield* Effect.provide(construction(layer), context))
    return context
  }))
})

export const inOrder = <A, E, R>(first: Layer.Layer<A, E, R>): InOrder<A, E, R> => sequence([first])
