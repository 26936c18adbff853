import type { Database } from "bun:sqlite"
import { Schema } from "effect"
import { chunked } from "../events/log.ts"
import { insertRows } from "../storage/batch.ts"

/** One of a record's distinct values (JSON text, ⊥, or for `existence` "true"/"false") and the maximal writes carrying it. */
export const ConflictSide = Schema.Struct({ value: Schema.String, events: Schema.Array(Schema.Number) })
export type ConflictSide = typeof ConflictSide.Type

/** A row of `conflicts`: one conflict record of a stream, pending or settled. */
export const ConflictRecord = Schema.Struct({
  id: Schema.Number,
  /** The scope with streamId (scope notes below). */
  worktree: Schema.String,
  streamId: Schema.Number,
  entityKind: Schema.String,
  entityId: Schema.String,
  /** The key: a field, `existence` when one side deletes, or `presence` for an edge. */
  field: Schema.String,
  /** Values as JSON text, or ⊥ (`deleted`) for a delete's; base is null when no write is in both sides' past. */
  base: Schema.NullOr(Schema.String),
  baseSeq: Schema.NullOr(Schema.Number),
  ours: Schema.String,
  oursSeq: Schema.Number,
  theirs: Schema.String,
  theirsSeq: Schema.Number,
  /**
   * Every distinct value among the maximal writes when the record last changed, ours first and theirs
   * second: more than two when three or more branches disagree. Stored as JSON text.
   */
  sides: Schema.Array(ConflictSide),
  status: Schema.Literal("pending", "settled"),
  /** The event that settled it. */
  settledSeq: Schema.NullOr(Schema.Number),
  /** Milliseconds since the epoch. */
  createdAt: Schema.Number,
  settledAt: Schema.NullOr(Schema.Number)
})
export type ConflictRecord = typeof ConflictRecord.Type

/** The row as stored: `sides` is JSON text. */
const StoredRecord = Schema.Struct({ ...ConflictRecord.fields, sides: Schema.parseJson(Schema.Array(ConflictSide)) })
const decodeRecords = Schema.decodeUnknownSync(Schema.Array(StoredRecord))

const columns = `id, worktree, stream_id AS streamId, entity_kind AS entityKind, entity_id AS entityId, field, base, base_seq AS baseSeq,
  ours, ours_seq AS oursSeq, theirs, theirs_seq AS theirsSeq, sides, status, settled_seq AS settledSeq, created_at AS createdAt,
  settled_at AS settledAt`

/**
 * A conflict record's scope is (worktree, branch). A branch is checked out in
 * one worktree at a time, so when it moves (`git worktree add W3 feat` after
 * feat left W1), its pending records move with it: the worktree that now has
 * the branch sees, updates and resolves them. Settled records keep the scope
 * they were settled in. "In scope": its own records, and the branch's pending
 * ones it would adopt.
 */
export const inScope = "((worktree = ? AND stream_id = ?) OR (stream_id = ? AND status = 'pending'))"
export const inScopeParams = (worktree: string, streamId: number) => [worktree, streamId, streamId]

/** Which pending records of a scope to pick (all of them when nothing is set). */
export interface RecordFilter {
  readonly id?: number | undefined
  readonly entity?: string | undefined
  readonly field?: string | undefined
}

/** A record to insert: the id is assigned on insert, in the order given. */
export type NewConflictRecord = Omit<ConflictRecord, "id">

/**
 * The one owner of the `conflicts` table. Learning a batch (Learner.ts) uses
 * the raw handle with multi-row statements and no decoding; the reads that
 * list, show and resolve decode every row with the Schema.
 */
export const makeConflictStore = (db: Database) => ({
  /** Whether the stream has any pending record: most have none, which spares a query per chunk. */
  anyPending: (streamId: number): boolean =>
    db.query("SELECT 1 FROM conflicts WHERE stream_id = ? AND status = 'pending' LIMIT 1").get(streamId) !== null,

  /** The stream's pending records of these entities. */
  pendingOf: (streamId: number, entityIds: ReadonlyArray<string>): ReadonlyArray<ConflictRecord> =>
    // The hot path of a pull: rows grove wrote itself, read without a Schema decode (only `sides` is JSON text).
    chunked(entityIds, (chunk, ph) =>
      db.query(`SELECT ${columns} FROM conflicts WHERE stream_id = ? AND status = 'pending' AND entity_id IN (${ph})`)
        .all(streamId, ...chunk) as Array<ConflictRecord & { sides: string }>)
      .map((r): ConflictRecord => ({ ...r, sides: JSON.parse(r.sides) as ConflictRecord["sides"] })),

  /** Writes back the sides, base and status of a stored record. */
  update: (
    r: Pick<ConflictRecord, "id" | "base" | "baseSeq" | "ours" | "oursSeq" | "theirs" | "theirsSeq" | "sides" | "status" | "settledSeq" | "settledAt">
  ): void => {
    db.query(
      `UPDATE conflicts SET base = ?, base_seq = ?, ours = ?, ours_seq = ?, theirs = ?, theirs_seq = ?, sides = ?, status = ?, settled_seq = ?,
       settled_at = ? WHERE id = ?`
    ).run(r.base, r.baseSeq, r.ours, r.oursSeq, r.theirs, r.theirsSeq, JSON.stringify(r.sides), r.status, r.settledSeq, r.settledAt, r.id)
  },

  /** Inserts new records with ids in the order given (after the greatest stored), in multi-row statements; returns the ids. */
  insert: (records: ReadonlyArray<NewConflictRecord>): Array<number> => {
    let next = (db.query("SELECT coalesce(max(id), 0) AS id FROM conflicts").get() as { id: number }).id
    const ids = records.map(() => ++next)
    insertRows(
      db,
      "conflicts",
      ["id", "worktree", "stream_id", "entity_kind", "entity_id", "field", "base", "base_seq", "ours", "ours_seq", "theirs", "theirs_seq", "sides", "status", "settled_seq", "created_at", "settled_at"],
      records.map((r, i) => [
        ids[i],
        r.worktree,
        r.streamId,
        r.entityKind,
        r.entityId,
        r.field,
        r.base,
        r.baseSeq,
        r.ours,
        r.oursSeq,
        r.theirs,
        r.theirsSeq,
        JSON.stringify(r.sides),
        r.status,
        r.settledSeq,
        r.createdAt,
        r.settledAt
      ])
    )
    return ids
  },

  /**
   * The worktree that has the branch takes its pending records. Write commands (pull, resolve)
   * adopt; reads (status, list) only look, so they never take the write lock.
   */
  adoptPending: (worktree: string, streamId: number | undefined): void => {
    if (streamId === undefined) return
    db.query("UPDATE conflicts SET worktree = ? WHERE stream_id = ? AND status = 'pending' AND worktree <> ?").run(worktree, streamId, worktree)
  },

  /** A scope's records by id: pending ones (matching `filter`), or with `all` settled ones too. */
  inScope: (worktree: string, streamId: number, options: { readonly all?: boolean; readonly filter?: RecordFilter } = {}) => {
    const where = [inScope]
    const params: Array<string | number> = inScopeParams(worktree, streamId)
    if (options.all !== true) where.push("status = 'pending'")
    const { id, entity, field } = options.filter ?? {}
    if (id !== undefined) where.push("id = ?"), params.push(id)
    if (entity !== undefined) where.push("entity_id = ?"), params.push(entity)
    if (field !== undefined) where.push("field = ?"), params.push(field)
    return decodeRecords(db.query(`SELECT ${columns} FROM conflicts WHERE ${where.join(" AND ")} ORDER BY id`).all(...params))
  },

  byId: (id: number): ConflictRecord | undefined => decodeRecords(db.query(`SELECT ${columns} FROM conflicts WHERE id = ?`).all(id))[0],

  /** How many records the branch's stream has pending, wherever they were created (they follow the branch). */
  countPending: (streamId: number): number =>
    (db.query("SELECT count(*) AS n FROM conflicts WHERE stream_id = ? AND status = 'pending'").get(streamId) as { n: number }).n,

  /** The ids of the pending records of every scope, oldest first, at most `limit`. */
  pendingIds: (limit: number): Array<number> =>
    (db.query("SELECT id FROM conflicts WHERE status = 'pending' ORDER BY id LIMIT ?").all(limit) as Array<{ id: number }>).map((r) => r.id),

  /** Hands a stream's pending records to another stream of the same branch (a replica's new id). */
  movePending: (from: number, to: number): void => {
    db.query("UPDATE conflicts SET stream_id = ? WHERE stream_id = ? AND status = 'pending'").run(to, from)
  }
})

export type ConflictStore = ReturnType<typeof makeConflictStore>
