import * as SqlClient from "@effect/sql/SqlClient"
import { type Unreadable, readStoredPayload } from "../events/operations.ts"
import { Context, Effect, Either, Layer } from "effect"
import { GitContext } from "../events/GitContext.ts"
import { GroveError, InvalidInput } from "../errors/index.ts"
import { Git } from "../git/Git.ts"
import { Repository } from "../git/Repository.ts"
import { orDatabaseError, trySqlite } from "../storage/errors.ts"
import { Sqlite } from "../storage/Sqlite.ts"
import { CausalState } from "../causality/CausalState.ts"
import type { Frontier } from "../causality/causality.ts"
import type { LearntEvent } from "../causality/Heads.ts"
import { eventRowColumns, type EventRow } from "../causality/LearntEvents.ts"
import { newestSeq, quarantine } from "../events/log.ts"
import { ensureLocalStream, localStreamId, streamName, streamsOfBranch } from "../events/streams.ts"
import { branchExists, defaultBranch } from "./SourceBranch.ts"
import { makeInvariantStore } from "../causality/InvariantStore.ts"
import { Touched } from "../projections/Invariants.ts"
import { SyncConfig } from "./SyncConfig.ts"

export class UnknownSource extends GroveError("UnknownSource", "unknown_source") {}

export interface PullReport {
  readonly sourceBranch: string
  readonly currentBranch: string
  /** Events learnt by this pull (quarantined ones included). */
  readonly scanned: number
  readonly conflictsCreated: number
  readonly conflictsSettled: number
  readonly quarantined: number
  readonly quarantinedByReason: Readonly<Record<string, number>>
  /** This branch's knowledge after the pull: per source stream, the highest seq known. */
  readonly cursor: Readonly<Record<string, number>>
  readonly batches: number
}

export interface StatusReport {
  readonly sourceBranch: string
  readonly currentBranch: string
  readonly behind: number
  readonly ahead: number
  readonly pendingConflicts: number
}

export interface PullOptions {
  /** Events per transaction (default: GROVE_PULL_BATCH, else 2000). */
  readonly batchSize?: number
  readonly onProgress?: (scanned: number) => void
}

/** Per source stream, the seq range (lo, hi] this pull must learn. */
interface Range {
  readonly stream: number
  readonly lo: number
  readonly hi: number
}

/**
 * `sync pull` and `sync status`: what B knows that A does not, learnt in seq
 * order in bounded batches, each one transaction that saves A's advanced
 * frontier with the conflicts it produced. Pull writes no events, so the live
 * state never changes.
 */
export class Sync extends Context.Tag("grove/Sync")<Sync, ReturnType<typeof makeSync>>() {
  static readonly layer = Layer.effect(
    Sync,
    Effect.gen(function*() {
      const gitCommands = yield* Git
      return makeSync(yield* Sqlite, yield* SqlClient.SqlClient, yield* CausalState, yield* GitContext, yield* Repository, gitCommands, yield* SyncConfig)
    })
  )
}

const makeSync = (
  { db }: typeof Sqlite.Service,
  sql: SqlClient.SqlClient,
  { knowledge, events, learner, conflicts }: typeof CausalState.Service,
  git: typeof GitContext.Service,
  repository: typeof Repository.Service,
  gitCommands: typeof Git.Service,
  config: typeof SyncConfig.Service
) => {
  const invariants = makeInvariantStore(db)
  const countIn = (r: Range) =>
    r.hi <= r.lo ? 0 : (db.query("SELECT count(*) AS n FROM events WHERE stream_id = ? AND seq > ? AND seq <= ?").get(r.stream, r.lo, r.hi) as { n: number }).n

  /**
   * What `sources` know together, as the highest seq per stream (each source's own stream: its newest
   * event). The newest seq is read first: frontiers only grow, so an event a source writes between the
   * two reads is never taken without the knowledge it was written with.
   */
  const knowledgeOf = (sources: ReadonlyArray<number>): Frontier => {
    const union: Record<number, number> = {}
    for (const source of sources) {
      const newest = newestSeq(db, source)
      for (const [s, seq] of Object.entries({ ...knowledge.current(source), [source]: newest })) {
        union[Number(s)] = Math.max(union[Number(s)] ?? 0, seq)
      }
    }
    return union
  }

  /** The ranges of `target` knowledge that `self` lacks (the streams in `own` excluded: they know their own events). */
  const missing = (own: ReadonlyArray<number>, selfKnows: Frontier, target: Frontier): Array<Range> =>
    Object.entries(target)
      .map(([s, hi]) => ({ stream: Number(s), lo: selfKnows[Number(s)] ?? 0, hi }))
      .filter((r) => !own.includes(r.stream) && r.hi > r.lo)

  /**
   * Resolves the source branch to its streams: this replica's and those imported from other clones
   * (`sync fetch`). An unknown branch is an error; a branch grove never wrote to knows nothing.
   */
  const source = (from: string | undefined, self: number | undefined) =>
    Effect.gen(function*() {
      const name = from ?? (yield* Effect.provideService(defaultBranch(repository.cwd), Git, gitCommands))
      const all = yield* trySqlite(() => streamsOfBranch(db, name))
      if (all.length === 0 && !(yield* Effect.provideService(branchExists(repository.cwd, name), Git, gitCommands))) {
        return yield* new UnknownSource({
          message: `unknown source ${name}: no such branch, and grove has no events from it`,
          details: { source: name }
        })
      }
      return { name, all, ids: all.filter((id) => id !== self) }
    })

  const cursorOf = (self: number) => {
    const known = knowledge.current(self)
    return Object.fromEntries(Object.entries(known).map(([s, seq]) => [streamName(db, Number(s)), seq]))
  }

  /** Reads a stored row; one that fails its Schema is quarantined with the reason. */
  const admit = (row: EventRow): LearntEvent | Unreadable =>
    Either.match(readStoredPayload(row.op, row.payload), {
      onLeft: (unreadable) => unreadable,
      onRight: (payload) => events.fromRow(row, payload)
    })

  const pull = (from: string | undefined, options: PullOptions = {}) =>
    Effect.gen(function*() {
      const context = yield* git.resolve
      const src = yield* source(from, yield* trySqlite(() => localStreamId(db, context.stream)))
      const batchSize = options.batchSize ?? config.pullBatchSize
      const report = { scanned: 0, conflictsCreated: 0, conflictsSettled: 0, quarantined: 0, batches: 0 }
      const byReason: Record<string, number> = {}
      // The entities made to exist or not by what this pull learns, where an invariant can break.
      const touched = new Touched()
      // What B knows when the pull starts: later writes to B wait for the next pull.
      const target = yield* trySqlite(() => knowledgeOf(src.ids))
      const batch = Effect.suspend(() =>
        trySqlite(() => {
          const self = ensureLocalStream(db, context.stream)
          if (report.batches === 0) conflicts.adoptPending(context.worktree, self), invariants.adoptPending(context.worktree, self)
          const known = knowledge.current(self)
          const ranges = missing([self], known, target)
          if (ranges.length === 0) return { done: true, self }
          const from = Math.min(...ranges.map((r) => r.lo))
          const to = Math.max(...ranges.map((r) => r.hi))
          const rows = db.query(
            `SELECT ${eventRowColumns} FROM events WHERE seq > ? AND seq <= ?
             AND (${ranges.map(() => "(+stream_id = ? AND seq > ? AND seq <= ?)").join(" OR ")})
             ORDER BY seq LIMIT ?`
          ).all(from, to, ...ranges.flatMap((r) => [r.stream, r.lo, r.hi]), batchSize) as Array<EventRow>
          const admitted: Array<LearntEvent> = []
          for (const row of rows) {
            touched.add(row.op, row.entity_id)
            const event = admit(row)
            if ("reason" in event) {
              quarantine(db, row.seq, event)
              report.quarantined++
              byReason[event.reason] = (byReason[event.reason] ?? 0) + 1
            } else admitted.push(event)
          }
          const learnt = learner.learn({ worktree: context.worktree, streamId: self }, admitted, "incoming")
          const reached = rows.length < batchSize ? to : rows[rows.length - 1]!.seq
          const next: Record<number, number> = { ...known }
          for (const r of ranges) next[r.stream] = Math.max(known[r.stream] ?? 0, Math.min(reached, r.hi))
          knowledge.advance(self, next)
          report.scanned += rows.length
          report.conflictsCreated += learnt.created.length
          report.conflictsSettled += learnt.settled.length
          report.batches++
          return { done: rows.length < batchSize, self }
        })
      )
      let self = 0
      for (;;) {
        const step = yield* orDatabaseError(sql.withTransaction(batch))
        self = step.self
        options.onProgress?.(report.scanned)
        if (step.done) break
        // A macrotask turn between batches, so a signal (interrupting the fiber) lands between transactions.
        yield* Effect.sleep(0)
      }
      if (touched.size > 0) {
        const found = yield* orDatabaseError(sql.withTransaction(trySqlite(() => invariants.detect({ worktree: context.worktree, streamId: () => self }, touched))))
        report.conflictsCreated += found.created.length
        report.conflictsSettled += found.settled.length
      }
      return {
        sourceBranch: src.name,
        currentBranch: context.stream,
        ...report,
        quarantinedByReason: byReason,
        cursor: yield* trySqlite(() => cursorOf(self))
      } satisfies PullReport
    })

  const status = (from: string | undefined) =>
    Effect.gen(function*() {
      const context = yield* git.resolve
      const self = yield* trySqlite(() => localStreamId(db, context.stream))
      const src = yield* source(from, self)
      return yield* trySqlite(() => {
        const selfKnows: Frontier = self === undefined ? {} : knowledgeOf([self])
        const sourceKnows: Frontier = knowledgeOf(src.all)
        // A branch that never wrote has no stream yet: it knows nothing, so it lacks all the source knows.
        const behind = missing(self === undefined ? [] : [self], selfKnows, sourceKnows).reduce((n, r) => n + countIn(r), 0)
        const ahead = missing(src.all, sourceKnows, selfKnows).reduce((n, r) => n + countIn(r), 0)
        const pendingConflicts = self === undefined ? 0 : conflicts.countPending(self) + invariants.countPending(self)
        return { sourceBranch: src.name, currentBranch: context.stream, behind, ahead, pendingConflicts } satisfies StatusReport
      })
    })

  return { pull, status }
}
