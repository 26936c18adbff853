import { Context, Effect, Either, Layer } from "effect"
import { CausalState } from "../causality/CausalState.ts"
import { checkDraft, type Detection, isEmptyOutcome, makeInvariantStore } from "../causality/InvariantStore.ts"
import { Touched } from "../projections/Invariants.ts"
import { knowledgeOp } from "../causality/causality.ts"
import { draft } from "../events/Event.ts"
import { branchStart } from "../git/BranchStart.ts"
import { Git } from "../git/Git.ts"
import type { Frontier } from "../causality/causality.ts"
import type { CatchUpStep } from "../causality/CatchUp.ts"
import { covers, join } from "../causality/Knowledge.ts"
import type { EventDraft } from "../events/Event.ts"
import { type Append, EventStore, type WriteError } from "../events/EventStore.ts"
import { GitContext, type WriteContext } from "../events/GitContext.ts"
import { appendRows, latestClocks, type LogRow, quarantine } from "../events/log.ts"
import { type PayloadOf, readStoredPayload } from "../events/operations.ts"
import { ensureLocalStream, localReplica, localStreamId, replicaOf, streamName } from "../events/streams.ts"
import { Projector } from "../projections/Projector.ts"
import { applyStored, reproject } from "../projections/Replay.ts"
import { type DatabaseBusy, type DatabaseError, trySqlite } from "../storage/errors.ts"
import { Sqlite } from "../storage/Sqlite.ts"

/**
 * Appends drafts inside the current write transaction; answers what the
 * invariant outcomes its knowledge events carried recorded (their record ids).
 */
export type Emit = (drafts: ReadonlyArray<EventDraft>) => Effect.Effect<Detection, DatabaseError | DatabaseBusy>

const noDetection: Detection = { created: [], settled: [] }
const joinDetections = (a: Detection, b: Detection): Detection =>
  a === noDetection ? b : b === noDetection ? a : { created: [...a.created, ...b.created], settled: [...a.settled, ...b.settled] }

/**
 * Inside the current write transaction, makes this worktree's stream learn
 * what it lacks of `target` (at most `limit` events): a pull's batch
 * (src/causality/CatchUp.ts).
 */
export type Learn = (target: Frontier, limit?: number) => Effect.Effect<CatchUpStep, DatabaseError | DatabaseBusy>

type Scope = { readonly worktree: string; readonly streamId: number }

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
   * and settle what that clears). A draft whose causal past (its entity's
   * creation; with --if-version, every write to its entity) the stream does
   * not know yet first makes the stream learn it, closed under causal past,
   * as a pull would: that may create conflict records in this scope.
   */
  readonly write: <A, E, R>(
    body: (emit: Emit, learn: Learn, stream: Effect.Effect<number, DatabaseError | DatabaseBusy>) => Effect.Effect<A, E, R>,
    /** The git context already resolved (a pull's batches share one); else resolved here. */
    context?: WriteContext
  ) => Effect.Effect<A, E | WriteError, R>
  /**
   * Does this worktree's stream already agree on a field's value (Agreement.ts)? A write the live state
   * already shows is recorded unless it does: writing it is a decision.
   */
  readonly agrees: (entityId: string, field: string, value: unknown) => Effect.Effect<boolean, WriteError>
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
      const gitCommands = yield* Git
      /** Appends a run of drafts with the stream's current knowledge as their causal context, projects and learns them. */
      const appendRun = (append: Append, scope: Scope, at: number, drafts: ReadonlyArray<EventDraft>): Effect.Effect<Detection, DatabaseError | DatabaseBusy> =>
        Effect.gen(function*() {
          const stored = yield* append(drafts, yield* trySqlite(() => causal.knowledge.currentId(scope.streamId)))
          yield* projector.apply(stored)
          yield* trySqlite(() =>
            causal.learner.learn(scope, stored.map((e) => ({ ...e, frontier: causal.knowledge.byId(e.frontierId), seen: null })), "own", at)
          )
          // Invariant records follow the log: a knowledge event that carries a check's outcome records it.
          return yield* trySqlite(() => {
            let detection = noDetection
            for (const e of stored) {
              const outcome = e.op === knowledgeOp ? (e.payload as PayloadOf<typeof knowledgeOp>).invariants : undefined
              if (outcome !== undefined) detection = joinDetections(detection, invariants.apply(scope, outcome, at))
            }
            return detection
          })
        })

      const write = <A, E, R>(
        body: (emit: Emit, learn: Learn, stream: Effect.Effect<number, DatabaseError | DatabaseBusy>) => Effect.Effect<A, E, R>,
        given?: WriteContext
      ) =>
        Effect.flatMap(given === undefined ? git.resolve : Effect.succeed(given), (context) =>
          store.transact((append, at) => {
            // The stream, created on its first write or pull with what its start point knew (Fork.ts) as a knowledge event.
            const scope: Effect.Effect<Scope, DatabaseError | DatabaseBusy> = Effect.gen(function*() {
              const existing = yield* trySqlite(() => localStreamId(db, context.stream))
              if (existing !== undefined) return { worktree: context.worktree, streamId: existing }
              const here = { worktree: context.worktree, streamId: yield* trySqlite(() => ensureLocalStream(db, context.stream)) }
              const start = yield* branchStart(context.worktree, context.stream).pipe(
                Effect.provideService(Git, gitCommands),
                Effect.orElseSucceed(() => undefined)
              )
              const inherited = yield* trySqlite(() => causal.fork.inheritance(here.streamId, start))
              if (inherited !== undefined && Object.keys(inherited.knowledge).length > 0) {
                yield* trySqlite(() => causal.catchUp.step(here, inherited.knowledge, at))
                yield* appendRun(append, here, at, [draft(knowledgeOp, { kind: "stream", id: context.stream }, { via: "fork", source: inherited.source })])
              }
              return here
            })
            // What this transaction's writes (not its knowledge events) touched, for its one invariant check at the end.
            const restored = new Touched()
            let changed = false
            const emit: Emit = (drafts) =>
              Effect.gen(function*() {
                if (drafts.length === 0) return noDetection
                for (const d of drafts) {
                  if (d.op !== knowledgeOp) changed = true
                  if (d.op === "conflict.resolved") restored.add(d.op, d.entityId)
                }
                const here = yield* scope
                const self = here.streamId
                // Causal order is transitive (Closure.ts): before a draft is appended its stream learns, as a pull
                // would, the past its edit brings in; the drafts before it are appended with what was known before.
                const needs = yield* trySqlite(() => causal.closure.needs(self, drafts))
                let known = yield* trySqlite(() => causal.knowledge.current(self))
                let start = 0
                let detection = noDetection
                for (const [i, need] of needs.entries()) {
                  if (covers(known, need, self)) continue
                  if (i > start) detection = joinDetections(detection, yield* appendRun(append, here, at, drafts.slice(start, i)))
                  yield* trySqlite(() => causal.catchUp.step(here, join(self, known, need), at))
                  known = yield* trySqlite(() => causal.knowledge.current(self))
                  start = i
                }
                return joinDetections(detection, yield* appendRun(append, here, at, drafts.slice(start)))
              })
            const learn: Learn = (target, limit) => Effect.flatMap(scope, (here) => trySqlite(() => causal.catchUp.step(here, target, at, limit)))
            // A write can fix a recorded cycle or orphan (a resolution, dep remove): settled by it. Every other write
            // is checked against the graph's rules, except what a resolution restores: checked here, once, when the
            // transaction's writes are all in (a restore passes through orphans on its way).
            const check = Effect.gen(function*() {
              if (!changed) return
              const here = yield* scope
              const outcome = yield* trySqlite(() => invariants.find(restored))
              if (!isEmptyOutcome(outcome)) yield* appendRun(append, here, at, [checkDraft(yield* trySqlite(() => streamName(db, here.streamId)), "check", "", outcome)])
            })
            return Effect.tap(body(emit, learn, Effect.map(scope, (here) => here.streamId)), () => check)
          }, context))

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

      const agrees = (entityId: string, field: string, value: unknown) =>
        Effect.flatMap(git.resolve, (context) =>
          trySqlite(() => causal.agreement.agrees(localStreamId(db, context.stream), entityId, field, JSON.stringify(value ?? null))))

      return { write, agrees, absorb }
    })
  )
}
