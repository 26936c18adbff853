import { Context, Effect, Either, Layer } from "effect"
import { CausalState } from "../causality/CausalState.ts"
import { makeInvariantStore } from "../causality/InvariantStore.ts"
import { Touched } from "../projections/Invariants.ts"
import type { EventDraft } from "../events/Event.ts"
import { EventStore, type WriteError } from "../events/EventStore.ts"
import { GitContext } from "../events/GitContext.ts"
import { appendRows, latestClocks, type LogRow, quarantine } from "../events/log.ts"
import { readStoredPayload } from "../events/operations.ts"
import { localReplica, replicaOf } from "../events/streams.ts"
import { Projector } from "../projections/Projector.ts"
import { applyStored, reproject } from "../projections/Replay.ts"
import { type DatabaseBusy, type DatabaseError, trySqlite } from "../storage/errors.ts"
import { Sqlite } from "../storage/Sqlite.ts"

/** Appends drafts inside the current write transaction. */
export type Emit = (drafts: ReadonlyArray<EventDraft>) => Effect.Effect<void, DatabaseError | DatabaseBusy>

/** What absorbing events from another clone did. */
export interface AbsorbReport {
  readonly imported: number
  readonly quarantined: number
  readonly quarantinedByReason: Readonly<Record<string, number>>
}

const byClock = (a: LogRow, b: LogRow) => a.clock - b.clock || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/**
 * The one way events enter the log, for every interface (commands, resolve,
 * restores, import): appended, projected into the live tables and learnt by
 * the sync bookkeeping, all in one transaction.
 */
export class Writer extends Context.Tag("grove/Writer")<Writer, {
  /**
   * Runs `body` in one write transaction; each `emit` appends drafts stamped
   * with this worktree's git context, projects them and learns them into the
   * writing stream (its new writes replace the heads of the fields they set
   * and settle what that clears).
   */
  readonly write: <A, E, R>(body: (emit: Emit) => Effect.Effect<A, E, R>) => Effect.Effect<A, E | WriteError, R>
  /**
   * Inside the caller's write transaction, appends events that arrive from
   * another clone, in causal order, keeping their ids, clocks and contexts.
   * The live state is every field's greatest-clock write, so an entity an
   * older event reaches is projected again from its history in clock order.
   * An imported stream knows what its newest event knew. A payload that fails
   * its Schema is quarantined, never projected.
   */
  readonly absorb: (rows: ReadonlyArray<Omit<LogRow, "seq">>) => Effect.Effect<AbsorbReport, DatabaseError | DatabaseBusy>
}>() {
  static readonly layer = Layer.effect(
    Writer,
    Effect.gen(function*() {
      const { db } = yield* Sqlite
      const store = yield* EventStore
      const projector = yield* Projector
      const causal = yield* CausalState
      const git = yield* GitContext
      const invariants = makeInvariantStore(db)
      const write = <A, E, R>(body: (emit: Emit) => Effect.Effect<A, E, R>) =>
        Effect.flatMap(git.resolve, (context) =>
          store.transact((append) =>
            body((drafts) =>
              Effect.gen(function*() {
                const stored = yield* append(drafts)
                yield* projector.apply(stored)
                if (stored.length === 0) return
                yield* trySqlite(() =>
                  causal.learner.learn(
                    { worktree: context.worktree, streamId: stored[0]!.streamId },
                    stored.map((e) => ({ ...e, frontier: causal.knowledge.byId(e.frontierId), seen: null })),
                    "own"
                  )
                )
                // A write can fix a recorded cycle or orphan (a resolution, dep remove): settled by it. Every other
                // write is checked against the graph's rules, except what a resolution restores: detected here.
                const restored = new Touched()
                for (const e of stored) if (e.op === "conflict.resolved") restored.add(e.op, e.entityId)
                yield* trySqlite(() => invariants.detect({ worktree: context.worktree, streamId: () => stored[0]!.streamId }, restored))
              })
            )
          ))

      const absorb = (rows: ReadonlyArray<Omit<LogRow, "seq">>) =>
        trySqlite((): AbsorbReport => {
          const byReason: Record<string, number> = {}
          if (rows.length === 0) return { imported: 0, quarantined: 0, quarantinedByReason: byReason }
          const latest = latestClocks(db, [...new Set(rows.map((r) => r.entity_id))])
          const stored = appendRows(db, rows)
          let quarantined = 0
          for (const r of stored) {
            const readable = readStoredPayload(r.op, r.payload)
            if (Either.isRight(readable)) continue
            quarantine(db, r.seq, readable.left)
            quarantined++
            byReason[readable.left.reason] = (byReason[readable.left.reason] ?? 0) + 1
          }
          const replay = new Set(stored.filter((r) => (latest.get(r.entity_id) ?? -1) > r.clock).map((r) => r.entity_id))
          applyStored(db, stored.filter((r) => !replay.has(r.entity_id)).sort(byClock))
          reproject(db, [...replay])
          // Rows come in causal order, so a stream's last row is its newest; this replica's own streams keep what they pulled here.
          const newest = new Map<number, number | null>()
          for (const r of stored) newest.set(r.stream_id, r.frontier_id)
          for (const [stream, frontierId] of newest) {
            if (frontierId !== null && replicaOf(db, stream) !== localReplica) causal.knowledge.setCurrent(stream, frontierId)
          }
          return { imported: stored.length, quarantined, quarantinedByReason: byReason }
        })

      return { write, absorb }
    })
  )
}
