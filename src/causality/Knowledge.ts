import type { Database } from "bun:sqlite"
import { Schema } from "effect"
import { rollbacks } from "../storage/Sqlite.ts"
import type { Frontier } from "./causality.ts"

/** `frontiers.vector`: JSON {streamId: highest known seq}. */
const decodeVector = Schema.decodeUnknownSync(Schema.parseJson(Schema.Record({ key: Schema.String.pipe(Schema.pattern(/^\d+$/)), value: Schema.Number })))

/**
 * Streams' knowledge as frontiers (version vectors), stored once each in
 * `frontiers` and pointed at by events (their causal context) and by
 * `stream_knowledge` (each stream's current one). Frontiers change at pulls
 * and when a write brings in the past of what it edits (CatchUp.ts), so a
 * repository holds few of them; they are cached by id, until a write
 * transaction rolls back: the ids of the rows it stored are given again to
 * other rows. The one owner of both tables.
 */
export const makeKnowledge = (db: Database) => {
  const cache = new Map<number, Frontier>()
  let cachedSince = rollbacks(db)
  const cached = () => {
    if (rollbacks(db) !== cachedSince) {
      cache.clear()
      cachedSince = rollbacks(db)
    }
    return cache
  }
  const byId = (id: number | null): Frontier => {
    if (id === null) return {}
    const cache = cached()
    let frontier = cache.get(id)
    if (frontier === undefined) {
      const row = db.query("SELECT vector FROM frontiers WHERE id = ?").get(id) as { vector: string } | null
      frontier = row === null ? {} : decodeVector(row.vector)
      cache.set(id, frontier)
    }
    return frontier
  }
  /** Stores a frontier once and returns its id. */
  const store = (frontier: Frontier): number => {
    const id = (db.query("INSERT INTO frontiers (vector) VALUES (?) RETURNING id").get(JSON.stringify(frontier)) as { id: number }).id
    cached().set(id, frontier)
    return id
  }
  /** Makes a stored frontier the stream's current one. */
  const setCurrent = (streamId: number, frontierId: number): void => {
    db.query(
      "INSERT INTO stream_knowledge (stream_id, frontier_id) VALUES (?, ?) ON CONFLICT (stream_id) DO UPDATE SET frontier_id = excluded.frontier_id"
    ).run(streamId, frontierId)
  }
  /** The id of the stream's current frontier, null when it knows nothing but its own events. */
  const currentId = (streamId: number): number | null =>
    (db.query("SELECT frontier_id FROM stream_knowledge WHERE stream_id = ?").get(streamId) as { frontier_id: number } | null)?.frontier_id ?? null
  return {
    byId,
    currentId,
    /** The stream's current frontier (what it has pulled or its writes brought in; its own events are implicit). */
    current: (streamId: number): Frontier => byId(currentId(streamId)),
    store,
    /** Records a new frontier for the stream; later events it writes carry it. */
    advance: (streamId: number, frontier: Frontier): void => setCurrent(streamId, store(frontier)),
    setCurrent
  }
}

export type Knowledge = ReturnType<typeof makeKnowledge>

/** Does `known` (a stream's frontier; its own events implicit) hold all of `needed`? */
export const covers = (known: Frontier, needed: Frontier, self: number): boolean =>
  Object.entries(needed).every(([s, seq]) => Number(s) === self || (known[Number(s)] ?? 0) >= seq)

/** The union of frontiers, without the stream's own entry (its own events are implicit). */
export const join = (self: number, ...frontiers: ReadonlyArray<Frontier>): Frontier => {
  const out: Record<number, number> = {}
  for (const f of frontiers) {
    for (const [s, seq] of Object.entries(f)) {
      if (Number(s) !== self) out[Number(s)] = Math.max(out[Number(s)] ?? 0, seq)
    }
  }
  return out
}
