import type { Database } from "bun:sqlite"
import { chunked, type LearningRow, learningColumnsOf } from "../events/log.ts"
import { insertRows } from "../storage/batch.ts"
import { type Floor, fieldKey, type LearntEvent, splitFieldKey } from "./Heads.ts"
import type { Knowledge } from "./Knowledge.ts"

/** A row of `heads` (one maximal write a stream knows of an entity's field) with its event's row: the event writes that entity. */
export type HeadRow = LearningRow & { readonly field: string }

/** Inserts heads (stream, entity, field, event_seq) in key order, so the rows of a batch land page by page in the table's B-tree. */
const insertHeads = (db: Database, added: Array<[number, string, string, number]>) => {
  added.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : a[3] - b[3]))
  insertRows(db, "heads", ["stream_id", "entity_id", "field", "event_seq"], added)
}

/**
 * The one owner of `heads` and `if_version_floors`: loads the rows of a
 * batch's entities and writes back what changed, with multi-row statements
 * on the raw handle (learning is the hot path of a pull).
 */
export const makeHeadsStore = (db: Database, knowledge: Knowledge) => ({
  /** The stream's heads of these entities, each with its event (one query instead of heads, then their events). */
  headsOf: (streamId: number, entityIds: ReadonlyArray<string>): Array<HeadRow> =>
    chunked(entityIds, (chunk, ph) =>
      db.query(
        `SELECT h.field, ${learningColumnsOf("e")} FROM heads h JOIN events e ON e.seq = h.event_seq WHERE h.stream_id = ? AND h.entity_id IN (${ph})`
      ).all(streamId, ...chunk) as Array<HeadRow>),

  /** The stream's --if-version floors of these entities, by fieldKey. */
  floorsOf: (streamId: number, entityIds: ReadonlyArray<string>): Map<string, Floor> => {
    const out = new Map<string, Floor>()
    // Most streams have no floors: one probe spares a query per chunk.
    if (db.query("SELECT 1 FROM if_version_floors WHERE stream_id = ? LIMIT 1").get(streamId) === null) return out
    const rows = chunked(entityIds, (chunk, ph) =>
      db.query(`SELECT entity_id AS e, field AS f, seq, frontier_id FROM if_version_floors WHERE stream_id = ? AND entity_id IN (${ph})`)
        .all(streamId, ...chunk) as Array<{ e: string; f: string; seq: number; frontier_id: number | null }>)
    for (const r of rows) out.set(fieldKey(r.e, r.f), { seq: r.seq, seen: knowledge.byId(r.frontier_id) })
    return out
  },

  /** Writes back the heads of the `dirty` fields (entity -> field -> its heads before): those that left it and those that joined it. */
  writeHeads: (
    streamId: number,
    heads: ReadonlyMap<string, ReadonlyMap<string, ReadonlyArray<LearntEvent>>>,
    dirty: ReadonlyMap<string, ReadonlyMap<string, ReadonlyArray<LearntEvent> | undefined>>
  ): void => {
    const removed: Array<[string, string, number]> = []
    const added: Array<[number, string, string, number]> = []
    for (const [e, fields] of dirty) {
      const entityHeads = heads.get(e)!
      for (const [f, old] of fields) {
        const now = entityHeads.get(f)!
        if (old === undefined) {
          for (const h of now) added.push([streamId, e, f, h.seq])
          continue
        }
        for (const o of old) if (!now.some((h) => h.seq === o.seq)) removed.push([e, f, o.seq])
        for (const h of now) if (!old.some((o) => o.seq === h.seq)) added.push([streamId, e, f, h.seq])
      }
    }
    // Multi-row: one statement per 500 heads, each term a search of the primary key.
    chunked(removed, (chunk) => {
      // A row value IN, not an OR of terms: without ANALYZE statistics SQLite walks the stream's whole heads for an OR of three or more.
      db.query(`DELETE FROM heads WHERE stream_id = ? AND (entity_id, field, event_seq) IN (VALUES ${chunk.map(() => "(?, ?, ?)").join(", ")})`)
        .run(streamId, ...chunk.flat())
      return []
    })
    insertHeads(db, added)
  },

  /**
   * Makes each of these fields' heads (entity -> field -> event seq) that one event alone, whatever they were:
   * a stream's plain own writes (Heads.ts `splitOwn`), without reading the heads they replace.
   */
  replaceHeads: (streamId: number, heads: ReadonlyMap<string, ReadonlyMap<string, number>>): void => {
    const fields: Array<[string, string]> = []
    const added: Array<[number, string, string, number]> = []
    for (const [e, fs] of heads) {
      for (const [f, seq] of fs) {
        fields.push([e, f])
        added.push([streamId, e, f, seq])
      }
    }
    chunked(fields, (chunk) => {
      // A row value IN, each term a search of the primary key's prefix (see writeHeads).
      db.query(`DELETE FROM heads WHERE stream_id = ? AND (entity_id, field) IN (VALUES ${chunk.map(() => "(?, ?)").join(", ")})`)
        .run(streamId, ...chunk.flat())
      return []
    })
    insertHeads(db, added)
  },

  /** Gives stream `to` the heads and floors of stream `from` (a replica's new id takes over what its branch knew). */
  copyStream: (from: number, to: number): void => {
    db.query("INSERT INTO heads (stream_id, entity_id, field, event_seq) SELECT ?, entity_id, field, event_seq FROM heads WHERE stream_id = ?").run(to, from)
    db.query(
      "INSERT INTO if_version_floors (stream_id, entity_id, field, seq, frontier_id) SELECT ?, entity_id, field, seq, frontier_id FROM if_version_floors WHERE stream_id = ?"
    ).run(to, from)
  },

  /** Writes back the `dirty` floors. */
  writeFloors: (streamId: number, floors: ReadonlyMap<string, Floor>, dirty: Iterable<string>): void => {
    for (const k of dirty) {
      const [e, f] = splitFieldKey(k)
      const floor = floors.get(k)!
      const seen = Object.keys(floor.seen).length === 0 ? null : knowledge.store(floor.seen)
      db.query(
        `INSERT INTO if_version_floors (stream_id, entity_id, field, seq, frontier_id) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET seq = excluded.seq, frontier_id = excluded.frontier_id`
      ).run(streamId, e, f, floor.seq, seen)
    }
  }
})

export type HeadsStore = ReturnType<typeof makeHeadsStore>
