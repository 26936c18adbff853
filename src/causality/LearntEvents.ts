import type { Database } from "bun:sqlite"
import { Either } from "effect"
import { creationsOf, historiesOf, type LearningRow, rowsBySeq, withCascadeEvents } from "../events/log.ts"
import { readStoredPayload, type Unreadable } from "../events/operations.ts"
import type { LearntEvent } from "./Heads.ts"
import type { Knowledge } from "./Knowledge.ts"

/** The columns of the log's row that learning reads. */
export type EventRow = LearningRow

/** The log as learning reads it: LearntEvents, with their causal context resolved. */
export const makeLearntEvents = (db: Database, knowledge: Knowledge) => {
  const fromRow = (r: EventRow, payload: unknown = JSON.parse(r.payload)): LearntEvent => ({
    seq: r.seq,
    id: r.id,
    streamId: r.stream_id,
    entityKind: r.entity_kind,
    entityId: r.entity_id,
    op: r.op,
    payload,
    clock: r.clock,
    ifVersion: r.if_version === 1,
    frontier: knowledge.byId(r.frontier_id),
    seen: r.seen_frontier_id === null ? null : knowledge.byId(r.seen_frontier_id),
    causeId: r.cause_id
  })

  /** The event of a row whose payload passes its Schema, or why it does not (quarantine). */
  const read = (row: EventRow): Either.Either<LearntEvent, Unreadable> => {
    // Run on every event a pull reads: a plain branch, not Either.map's dual dispatch.
    const payload = readStoredPayload(row.op, row.payload)
    return Either.isLeft(payload) ? Either.left(payload.left) : Either.right(fromRow(row, payload.right))
  }

  return {
    fromRow,
    read,

    bySeqs: (seqs: ReadonlyArray<number>): Map<number, LearntEvent> => new Map(rowsBySeq(db, seqs).map((r) => [r.seq, fromRow(r)])),

    /**
     * The readable histories of these entities, newest first (unreadable events are never a base). `readAlready`:
     * events of this transaction already read through their Schema (a batch), by seq, taken as they are.
     */
    histories: (entityIds: ReadonlyArray<string>, readAlready: ReadonlyMap<number, LearntEvent> = new Map()): Map<string, Array<LearntEvent>> => {
      const out = new Map<string, Array<LearntEvent>>()
      for (const row of historiesOf(db, entityIds, "newest first")) {
        let event = readAlready.get(row.seq)
        if (event === undefined) {
          const readNow = read(row)
          if (Either.isLeft(readNow)) continue
          event = readNow.right
        }
        const list = out.get(row.entity_id)
        if (list === undefined) out.set(row.entity_id, [event])
        else list.push(event)
      }
      return out
    },

    /** Those of these entities a delete's cascade wrote to. */
    cascadedAmong: (entityIds: ReadonlyArray<string>): Set<string> => withCascadeEvents(db, entityIds),

    /** The creations of these entities. */
    creations: (entityIds: ReadonlyArray<string>): Map<string, LearntEvent> => new Map(creationsOf(db, entityIds).map((r) => [r.entity_id, fromRow(r)]))
  }
}

export type LearntEvents = ReturnType<typeof makeLearntEvents>
