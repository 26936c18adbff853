import { describe, expect, it } from "bun:test"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { construction, inOrder, provideBuilt } from "../src/app/inOrder.ts"

class First extends Context.Tag("test/First")<First, { readonly n: number }>() {}
class Second extends Context.Tag("test/Second")<Second, { readonly n: number }>() {}
class Third extends Context.Tag("test/Third")<Third, { readonly n: number }>() {}
class Fourth extends Context.Tag("test/Fourth")<Fourth, { readonly n: number }>() {}

/** A scoped layer that records its acquisition and release in `log`. */
const recorded = <I, S, R>(tag: Context.Tag<I, S>, name: string, log: Array<string>, make: Effect.Effect<S, never, R>) =>
  Layer.scoped(tag, Effect.acquireRelease(Effect.tap(make, () => Effect.sync(() => log.push(`acquire ${name}`))), () =>
    Effect.sync(() => log.push(`release ${name}`))))

describe("layers built in order (app/inOrder.ts)", () => {
  it("builds each layer once, after the ones before it, and releases them in reverse order", async () => {
    const log: Array<string> = []
    let secondBuilt = 0
    const layer = inOrder(recorded(First, "first", log, Effect.succeed({ n: 1 })))
      .then(Layer.effect(Second, Effect.map(First, (f) => {
        secondBuilt += 1
        log.push("build second")
        return { n: f.n + 1 }
      })))
      // A composed layer takes Layer.build's path; it still sees the services before it.
      .then(Layer.merge(
        recorded(Third, "third", log, Effect.map(Second, (s) => ({ n: s.n + 1 }))),
        Layer.succeed(Fourth, { n: 4 })
      )).layer
    const sum = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const ctx = yield* Layer.build(layer)
      return Context.get(ctx, First).n + Context.get(ctx, Second).n + Context.get(ctx, Third).n + Context.get(ctx, Fourth).n
    })))
    expect({ sum, secondBuilt, log }).toEqual({
      sum: 10,
      secondBuilt: 1,
      log: ["acquire first", "build second", "acquire third", "release third", "release first"]
    })
  })

  it("releases what was built when a later layer fails, and fails with that layer's error", async () => {
    const log: Array<string> = []
    const layer = inOrder(recorded(First, "first", log, Effect.succeed({ n: 1 })))
      .then(recorded(Second, "second", log, Effect.succeed({ n: 2 })))
      .then(Layer.effect(Third, Effect.fail("third failed" as const))).layer
    const exit = await Effect.runPromiseExit(Effect.scoped(Layer.build(layer)))
    const outcome = Exit.match(exit, { onFailure: (cause) => String(cause), onSuccess: () => "succeeded" })
    expect({ outcome, log }).toEqual({
      outcome: expect.stringContaining("third failed"),
      log: ["acquire first", "acquire second", "release second", "release first"]
    })
  })

  it("builds a Layer.effect, succeed or sync layer as its own effect, with no memo map or scope of Layer.build", () => {
    // Layer.build needs a Scope; the layer's own effect does not. If effect's layer representation changes, the
    // layers fall back to Layer.build (correct, but slower to start) and this fails.
    const layers = [
      Layer.effect(First, Effect.succeed({ n: 1 })),
      Layer.succeed(First, { n: 1 }),
      Layer.sync(First, () => ({ n: 1 }))
    ]
    for (const layer of layers) {
      const built = Effect.runSync(construction(layer) as Effect.Effect<Context.Context<First>>)
      expect(Context.get(built, First).n).toBe(1)
    }
  })

  it("builds a Layer.scoped layer over the enclosing scope: closing that scope releases the service", async () => {
    const log: Array<string> = []
    await Effect.runPromise(Effect.gen(function*() {
      const scope = yield* Scope.make()
      const built = yield* construction(recorded(First, "first", log, Effect.succeed({ n: 1 }))).pipe(Effect.provideService(Scope.Scope, scope))
      log.push(`built ${Context.get(built, First).n}`)
      yield* Scope.close(scope, Exit.void)
    }))
    expect(log).toEqual(["acquire first", "built 1", "release first"])
  })

  it("provides the layers to an effect and releases them, in reverse order, when it ends or fails", async () => {
    const log: Array<string> = []
    const layer = inOrder(recorded(First, "first", log, Effect.succeed({ n: 1 })))
      .then(recorded(Second, "second", log, Effect.map(First, (f) => ({ n: f.n + 1 })))).layer
    const use = Effect.flatMap(Second, (s) => Effect.sync(() => {
      log.push(`use ${s.n}`)
      return s.n
    }))
    const value = await Effect.runPromise(provideBuilt(layer)(use))
    const failed = await Effect.runPromiseExit(provideBuilt(layer)(Effect.zipRight(use, Effect.fail("use failed" as const))))
    expect({ value, failed: Exit.isFailure(failed), log }).toEqual({
      value: 2,
      failed: true,
      log: [
        "acquire first", "acquire second", "use 2", "release second", "release first",
        "acquire first", "acquire second", "use 2", "release second", "release first"
      ]
    })
  })
})
