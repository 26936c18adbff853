import { Context, Effect, Layer } from "effect"
import type { EventDraft } from "../events/Event.ts"
import { EventStore, type WriteError } from "../events/EventStore.ts"
import { GitContext } from "../events/GitContext.ts"
import { Projector } from "../projections/Projector.ts"
import { type DatabaseBusy, type DatabaseError, trySqlite } from "../storage/errors.ts"
import { SyncState } from "./SyncState.ts"

/** Appends drafts inside the current write transaction. */
export type Emit = (drafts: ReadonlyArray<EventDraft>) => Effect.Effect<void, DatabaseError | DatabaseBusy>

/**
 * The one way events are written: appended to the log, projected into the
 * live tables and learnt by the writing stream (its new writes replace the
 * heads of the fields they set and settle what that clears), all in one
 * transaction.
 */
export class Writer extends Context.Tag("grove/Writer")<Writer, {
  readonly write: <A, E, R>(body: (emit: Emit) => Effect.Effect<A, E, R>) => Effect.Effect<A, E | WriteError, R>
}>() {
  static readonly layer = Layer.effect(
    Writer,
    Effect.gen(function*() {
      const store = yield* EventStore
      const projector = yield* Projector
      const syncState = yield* SyncState
      const git = yield* GitContext
      return {
        write: <A, E, R>(body: (emit: Emit) => Effect.Effect<A, E, R>) =>
          Effect.flatMap(git.resolve, (context) =>
            store.transact((append) =>
              body((drafts) =>
                Effect.gen(function*() {
                  const stored = yield* append(drafts)
                  yield* projector.apply(stored)
                  if (stored.length === 0) return
                  yield* trySqlite(() =>
                    syncState.learner.learn(
                      { worktree: context.worktree, streamId: stored[0]!.streamId },
                      stored.map((e) => ({ ...e, frontier: syncState.knowledge.byId(e.frontierId), seen: null })),
                      "own"
                    )
                  )
                })
              )
            ))
      }
    })
  )
}
