import { Context, Effect, Either, Layer } from "effect"
import type { GitFailed, NotARepository } from "../git/Git.ts"
import { type DatabaseBusy, type DatabaseError, trySqlite } from "../storage/errors.ts"
import { Sqlite } from "../storage/Sqlite.ts"
import type { EventDraft, StoredEvent } from "./Event.ts"
import { payloadVersion, readStoredPayload } from "./operations.ts"
import { GitContext, type WriteContext } from "./GitContext.ts"
import { nextStamps, wallTimeOf } from "./hlc.ts"
import { appendRows, lastClock, latestEntries, nextPos, openTransaction } from "./log.ts"
import { chainDigests, chainHead } from "./chain.ts"
import { ensureLocalStream, localReplicaName } from "./streams.ts"

/**
 * Appends drafts inside the current write transaction and returns them as
 * stored, each with `frontierId` as its causal context (the writer's knowledge,
 * src/causality).
 */
export type Append = (drafts: ReadonlyArray<EventDraft>, frontierId: number | null) => Effect.Effect<ReadonlyArray<StoredEvent>, DatabaseBusy | DatabaseError>

/** An event with its git context, as `events list` shows it. */
export interface EventView {
  readonly seq: number
  readonly id: string
  readonly stream: string
  readonly worktree: string
  readonly head: string | null
  readonly actor: string
  readonly clock: number
  readonly time: string
  readonly entityKind: string
  readonly entityId: string
  readonly op: string
  readonly payload: unknown
  readonly payloadVersion: number
  readonly causeId: string | null
}

export interface EventFilter {
  readonly stream?: string | undefined
  readonly entity?: string | undefined
  readonly limit?: number | undefined
}

export type WriteError = DatabaseBusy | DatabaseError | NotARepository | GitFailed

/** The append-only log: write transactions stamped with their git context, and reads. */
export class EventStore extends Context.Tag("grove/EventStore")<EventStore, {
  /**
   * Runs `body` in one BEGIN IMMEDIATE transaction. The git context is resolved
   * before the lock and persisted once, on the first append, however many
   * events the transaction appends; `at` is its wall time (ms), taken under the
   * lock. A failure rolls everything back.
   */
  readonly transact: <A, E, R>(body: (append: Append, at: number) => Effect.Effect<A, E, R>, context?: WriteContext) => Effect.Effect<A, E | WriteError, R>
  readonly list: (filter: EventFilter) => Effect.Effect<ReadonlyArray<EventView>, DatabaseError | DatabaseBusy>
}>() {
  static readonly layer = Layer.effect(
    EventStore,
    Effect.gen(function*() {
      const { db, transaction } = yield* Sqlite
      const gitContext = yield* GitContext

      const transact = <A, E, R>(body: (append: Append, at: number) => Effect.Effect<A, E, R>, given?: WriteContext) =>
        Effect.gen(function*() {
          const context = given ?? (yield* gitContext.resolve)
          let opened:
            | { readonly txId: number; readonly streamId: number; readonly at: number; readonly replica: string; last: number; pos: number; digest: string | null }
            | undefined
          // The transaction's wall time, fixed under the write lock before the body runs: what the body records
          // (conflict records' times) can be recomputed from the log, where the transaction row keeps it.
          let at = 0
          const open = () => {
            const streamId = ensureLocalStream(db, context.stream)
            const txId = openTransaction(db, { streamId, worktree: context.worktree, head: context.head, actor: context.actor, at })
            return {
              txId,
              streamId,
              at,
              replica: localReplicaName(db),
              last: lastClock(db),
              pos: nextPos(db, streamId),
              digest: chainHead(db, streamId)
            }
          }
          const append: Append = (drafts, frontierId) =>
            trySqlite(() => {
              if (drafts.length === 0) return []
              const tx = opened ??= open()
              const stamps = nextStamps(tx.last, Date.now(), drafts.length)
              const payloads = drafts.map((d) => JSON.stringify(d.payload))
              // The hash chain (src/events/chain.ts): each event's digest covers it and the one before it in its stream.
              const digests = chainDigests(tx.digest, drafts.map((d, i) => ({
                id: d.id,
                replica: tx.replica,
                branch: context.stream,
                pos: tx.pos + i,
                clock: stamps.first + i,
                entityKind: d.entityKind,
                entityId: d.entityId,
                op: d.op,
                payload: payloads[i]!,
                payloadVersion,
                causeId: d.causeId,
                ifVersion: d.ifVersion,
                worktree: context.worktree,
                head: context.head,
                actor: context.actor,
                at: tx.at
              })))
              const rows = appendRows(
                db,
                drafts.map((d, i) => ({
                  id: d.id,
                  tx_id: tx.txId,
                  stream_id: tx.streamId,
                  clock: stamps.first + i,
                  entity_kind: d.entityKind,
                  entity_id: d.entityId,
                  op: d.op,
                  payload: payloads[i]!,
                  payload_version: payloadVersion,
                  cause_id: d.causeId,
                  frontier_id: frontierId,
                  if_version: d.ifVersion ? 1 : 0,
                  pos: tx.pos + i,
                  seen_frontier_id: null,
                  digest: digests[i]!
                }))
              )
              tx.pos += rows.length
              tx.digest = digests.at(-1)!
              tx.last = stamps.last
              return drafts.map((d, i): StoredEvent => ({ ...d, seq: rows[i]!.seq, clock: rows[i]!.clock, streamId: tx.streamId, frontierId }))
            })
          return yield* transaction(Effect.suspend(() => {
            at = Date.now()
            return body(append, at)
          }))
        })

      const list = (filter: EventFilter) =>
        trySqlite(() =>
          latestEntries(db, { ...filter, limit: filter.limit ?? 50 }).map((r): EventView => ({
            seq: r.seq,
            id: r.id,
            stream: r.stream,
            worktree: r.worktree,
            head: r.head,
            actor: r.actor,
            clock: r.clock,
            time: new Date(wallTimeOf(r.clock)).toISOString(),
            entityKind: r.entity_kind,
            entityId: r.entity_id,
            op: r.op,
            // A row written behind grove's back may not parse: it is shown, not fatal.
            payload: Either.getOrElse(readStoredPayload(r.op, r.payload), (u) => ({ unreadable: u.reason, raw: r.payload })),
            payloadVersion: r.payload_version,
            causeId: r.cause_id
          }))
        )

      return { transact, list }
    })
  )
}
