import type { Database } from "bun:sqlite"
import { Either } from "effect"
import { creationsOf, historiesOf, type LearningRow, rowsBySeq } from "../events/log.ts"
import { readStoredPayload, type Unreadable } from "../events/operations.ts"
import type { LearntEvent } from "./Heads.ts"
import type { Knowledge } from "./Knowledge.ts"

/** The columns of the log's row that learning reads. */
export type EventRow = LearningRow

/** How many readable events are kept: a pull's batch, its heads and the histories of its conflicts. */
const readableKept = 50_000

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

  /**
   * Events whose payload passed its Schema, by seq: a pull checks an event when its batch reads it and
   * again when a conflict's base reads its entity's history. A seq names one event only once it is
   * committed (a rolled-back append gives its seq to the next), so an entry serves only the same id.
   */
  const readable = new Map<number, LearntEvent>()

  /** The event of a row whose payload passes its Schema, or why it does not (quarantine). */
  const read = (row: EventRow): Either.Either<LearntEvent, Unreadable> => {
    const kept = readable.get(row.seq)
    if (kept !== undefined && kept.id === row.id) return Either.right(kept)
    const payload = readStoredPayload(row.op, row.payload)
    if (Either.isLeft(payload)) return Either.left(payload.left)
    const event = fromRow(row, payload.right)
    if (readable.size >= readableKept) readable.clear()
    readable.set(row.seq, event)
    return Either.right(event)
  }

  return {
    fromRow,
    read,

    bySeqs: (seqs: ReadonlyArray<number>): Map<number, LearntEvent> => new Map(rowsBySeq(db, seqs).map((r) => [r.seq, fromRow(r)])),

    /** The readable histories of these entities, newest first (unreadable events are never a base). */
    histories: (entityIds: ReadonlyArray<string>): Map<string, Array<LearntEvent>> => {
      const out = new Map<string, Array<LearntEvent>>()
      for (const row of historiesOf(db, entityIds, "newest first")) {
        const event = read(row)
        if (Either.isLeft(event)) continue
        const list = out.get(row.entity_id) ?? []
        list.push(event.right)
        out.set(row.entity_id, list)
      }
      return out
    },

    /** The creations of these entities. */
    creations: (entityIds: ReadonlyArray<string>): Map<string, LearntEvent> => new Map(creationsOf(db, entityIds).map((r) => [r.entity_id, fromRow(r)]))
  }
}

export type LearntEvents = ReturnType<typeof makeLearntEvents>
