import type { Database } from "bun:sqlite"
import { Either } from "effect"
import type { LogRow } from "../events/log.ts"
import { readStoredPayload } from "../events/operations.ts"
import type { LearntEvent } from "./Heads.ts"
import type { Knowledge } from "./Knowledge.ts"

/** The columns of the log's row that learning reads. */
export type EventRow = Pick<
  LogRow,
  "seq" | "id" | "stream_id" | "entity_kind" | "entity_id" | "op" | "payload" | "clock" | "if_version" | "frontier_id" | "seen_frontier_id" | "cause_id"
>

export const eventRowColumns = "seq, id, stream_id, entity_kind, entity_id, op, payload, clock, if_version, frontier_id, seen_frontier_id, cause_id"

export const chunked = <A>(items: ReadonlyArray<A>, size: number): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

export const placeholders = (n: number) => Array(n).fill("?").join(", ")

/** The reads of the log that learning needs, as LearntEvents with their causal context resolved. */
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

    bySeqs: (seqs: ReadonlyArray<number>): Map<number, LearntEvent> => {
      const out = new Map<number, LearntEvent>()
      for (const chunk of chunked(seqs, 500)) {
        const rows = db.query(`SELECT ${eventRowColumns} FROM events WHERE seq IN (${placeholders(chunk.length)})`).all(...chunk) as Array<EventRow>
        for (const r of rows) out.set(r.seq, fromRow(r))
      }
      return out
    },

    /** The readable histories of these entities, newest first (unreadable events are never a base). */
    histories: (entityIds: ReadonlyArray<string>): Map<string, Array<LearntEvent>> => {
      const out = new Map<string, Array<LearntEvent>>()
      for (const chunk of chunked(entityIds, 500)) {
        const rows = db.query(`SELECT ${eventRowColumns} FROM events WHERE entity_id IN (${placeholders(chunk.length)}) ORDER BY clock DESC, id DESC`)
          .all(...chunk) as Array<EventRow>
        for (const row of rows) {
          const payload = readStoredPayload(row.op, row.payload)
          if (Either.isLeft(payload)) continue
          const list = out.get(row.entity_id) ?? []
          list.push(fromRow(row, payload.right))
          out.set(row.entity_id, list)
        }
      }
      return out
    },

    /** The creations of these entities. */
    creations: (entityIds: ReadonlyArray<string>): Map<string, LearntEvent> => {
      const out = new Map<string, LearntEvent>()
      for (const chunk of chunked(entityIds, 500)) {
        const rows = db.query(
          `SELECT ${eventRowColumns} FROM events WHERE entity_id IN (${placeholders(chunk.length)}) AND op IN ('epic.created', 'task.created', 'subtask.created')`
        ).all(...chunk) as Array<EventRow>
        for (const r of rows) out.set(r.entity_id, fromRow(r))
      }
      return out
    }
  }
}

export type LearntEvents = ReturnType<typeof makeLearntEvents>
