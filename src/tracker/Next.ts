import { Context, Effect, Layer } from "effect"
import { Writer } from "../write/Writer.ts"
import type { Acting } from "./Acting.ts"
import { Claims } from "./Claims.ts"
import { Pick } from "./Pick.ts"

export interface NextOptions extends Acting {
  readonly epic?: string | undefined
  /** Claim the pick in the same transaction that chose it. */
  readonly claim?: boolean | undefined
  readonly lease?: number | undefined
}

/**
 * `grove next`: the best task for this agent (Pick.ts). With claim, choosing
 * and claiming happen in one write transaction, so two agents never get the
 * same task.
 */
export class Next extends Context.Tag("grove/Next")<Next, ReturnType<typeof makeNext>>() {
  static readonly layer = Layer.effect(
    Next,
    Effect.gen(function*() {
      return makeNext(yield* Writer, yield* Claims, yield* Pick)
    })
  )
}

const makeNext = (writer: typeof Writer.Service, claims: typeof Claims.Service, pick: typeof Pick.Service) => {
  const next = (options: NextOptions) =>
    Effect.gen(function*() {
      const who = yield* claims.whoActs(options)
      // A read first: when there is nothing to pick, polling agents take no write lock.
      const seen = yield* pick.choose(who, options.epic)
      const picked = options.claim === true && seen !== undefined
        ? yield* writer.write((emit) =>
          Effect.tap(pick.choose(who, options.epic), (p) =>
            p === undefined
              ? Effect.void
              : p.resumed
              ? claims.renewAround(emit, p.task, who)
              : claims.claimIn(emit, "task", p.task.id, who, { owner: who, lease: options.lease })))
        : seen
      return yield* pick.answer(who, picked, options.claim === true, options.epic)
    })

  return { next }
}
