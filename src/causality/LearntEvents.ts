import type { Database } from "bun:sqlite"
import { Either } from "effect"
import { creationsOf, historiesOf, type LearningRow, rowsBySeq } from "../events/log.ts"
import { readStoredPayload } from "../events/operations.ts"
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

  return {
    fromRow,

    bySeqs: (seqs: ReadonlyArray<number>): Map<number, LearntEvent> => new Map(rowsBySeq(db, seqs).map((r) => [r.seq, fromRow(r)])),

    /** The readable histories of these entities, newest first (unreadable events are never a base). */
    histories: (entityIds: ReadonlyArray<string>): Map<string, Array<LearntEvent>> => {
      const out = new Map<string, Array<LearntEvent>>()
      for (const row of historiesOf(db, entityIds, "newest first")) {
        const payload = readStoredPayload(row.op, row.payload)
        if (Either.isLeft(payload)) continue
        const list = out.get(row.entity_id) ?? []
        list.push(fromRow(row, payload.right))
        out.set(row.entity_id, list)
      }
      return out
    },

    /** The creations of these entities. */
    creations: (entityIds: ReadonlyArray<string>): Map<string, LearntEvent> => new Map(creationsOf(db, entityIds).map((r) => [r.entity_id, fromRow(r)]))
  }
}

export type LearntEvents = ReturnType<typeof makeLearntEvents>
