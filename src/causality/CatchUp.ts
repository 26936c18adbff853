import type { Database } from "bun:sqlite"
import { Either } from "effect"
import { type LearningRow, quarantine, rowsInRanges } from "../events/log.ts"
import { type Frontier, knowledgeOp } from "./causality.ts"
import type { LearntEvent } from "./Heads.ts"
import type { Knowledge } from "./Knowledge.ts"
import type { Learner } from "./Learner.ts"
import type { LearntEvents } from "./LearntEvents.ts"

/** Per stream, the seq range (lo, hi] a stream must learn. */
export interface Range {
  readonly stream: number
  readonly lo: number
  readonly hi: number
}

/** The ranges of `target` that `known` lacks (the streams in `own` excluded: they know their own events). */
export const missing = (own: ReadonlyArray<number>, known: Frontier, target: Frontier): Array<Range> =>
  Object.entries(target)
    .map(([s, hi]) => ({ stream: Number(s), lo: known[Number(s)] ?? 0, hi }))
    .filter((r) => !own.includes(r.stream) && r.hi > r.lo)

/** What one step of catching up did. */
export interface CatchUpStep {
  /** Events learnt (quarantined ones included). */
  readonly read: number
  /** Of those, the changes: knowledge events (`stream.learnt`) are bookkeeping and not counted. */
  readonly scanned: number
  readonly created: ReadonlyArray<number>
  readonly settled: ReadonlyArray<number>
  readonly quarantinedByReason: Readonly<Record<string, number>>
  /** Each event read (its op, entity and stream): what invariant detection looks around (projections/Invariants.ts). */
  readonly learnt: ReadonlyArray<Pick<LearningRow, "op" | "entity_id" | "stream_id">>
  /** True when the stream now knows all of the target. */
  readonly done: boolean
}

/**
 * A stream learning what it lacks of a target frontier, in seq order: a pull
 * (in bounded batches, one transaction each) and a write that brings in the
 * past of what it edits (Closure.ts, all at once inside the write's
 * transaction) are the same work. Events are learnt as incoming, so they may
 * create, update and settle the scope's conflict records; an event whose
 * payload fails its Schema is quarantined, never learnt. After each step the
 * stream's frontier holds, per stream, the highest seq learnt, so an
 * interrupted catch-up is a prefix of the whole one.
 */
export const makeCatchUp = (db: Database, knowledge: Knowledge, events: LearntEvents, learner: Learner) => ({
  step: (scope: { readonly worktree: string; readonly streamId: number }, target: Frontier, now: number, limit = Number.MAX_SAFE_INTEGER): CatchUpStep => {
    const self = scope.streamId
    const known = knowledge.current(self)
    const ranges = missing([self], known, target)
    const byReason: Record<string, number> = {}
    if (ranges.length === 0) return { read: 0, scanned: 0, created: [], settled: [], quarantinedByReason: byReason, learnt: [], done: true }
    const rows = rowsInRanges(db, ranges, limit)
    const admitted: Array<LearntEvent> = []
    let scanned = 0
    for (const row of rows) {
      if (row.op !== knowledgeOp) scanned++
      const event = events.read(row)
      if (Either.isRight(event)) {
        admitted.push(event.right)
        continue
      }
      quarantine(db, row.seq, event.left)
      byReason[event.left.reason] = (byReason[event.left.reason] ?? 0) + 1
    }
    const learnt = learner.learn(scope, admitted, "incoming", now)
    const done = rows.length < limit
    // Per stream, the newest event learnt: a frontier names events, so it reads the same wherever it is compared.
    const next: Record<number, number> = { ...known }
    if (done) for (const r of ranges) next[r.stream] = r.hi
    else for (const row of rows) next[row.stream_id] = Math.max(next[row.stream_id] ?? 0, row.seq)
    knowledge.advance(self, next)
    return {
      read: rows.length,
      scanned,
      created: learnt.created,
      settled: learnt.settled,
      quarantinedByReason: byReason,
      learnt: rows,
      done
    }
  }
})

export type CatchUp = ReturnType<typeof makeCatchUp>
