import type { Database } from "bun:sqlite"
import { Schema } from "effect"
import { insertRows } from "../storage/batch.ts"
import { Behind, cycleTasks, eventsBehind, findViolations, namedEntities, stillHolds, type Touched, Violation, violationKey } from "../projections/Invariants.ts"
// The same scope rule as field conflicts: a scope's own records, and its branch's pending ones.
import { inScope, inScopeParams } from "./ConflictStore.ts"

/** A row of `invariant_conflicts`: a cycle or an orphan in the live state, pending or settled. */
export const InvariantRecord = Schema.Struct({
  id: Schema.Number,
  /** The scope (worktree, branch) of the command that found it; pending records follow their branch, as field conflicts do. */
  worktree: Schema.String,
  streamId: Schema.Number,
  violation: Schema.parseJson(Violation),
  behind: Schema.parseJson(Behind),
  status: Schema.Literal("pending", "settled"),
  /** The newest event of the entities it names once it no longer held: the event that fixed it. */
  settledSeq: Schema.NullOr(Schema.Number),
  /** Milliseconds since the epoch. */
  createdAt: Schema.Number,
  settledAt: Schema.NullOr(Schema.Number)
})
export type InvariantRecord = typeof InvariantRecord.Type

const decodeRecords = Schema.decodeUnknownSync(Schema.Array(InvariantRecord))
const columns = `id, worktree, stream_id AS streamId, violation, behind, status, settled_seq AS settledSeq, created_at AS createdAt, settled_at AS settledAt`


/**
 * Invariant conflicts are numbered apart from field conflicts and shown as
 * `i<N>`; a bare number names a field conflict, as it always has.
 */
export const invariantId = (n: number): string => `i${n}`

/** `i<N>` -> N; anything else -> undefined. */
export const parseInvariantId = (text: string): number | undefined => (/^i[1-9]\d*$/.test(text) ? Number(text.slice(1)) : undefined)

/** What one detection did. */
export interface Detection {
  readonly created: ReadonlyArray<number>
  readonly settled: ReadonlyArray<number>
}

/**
 * The one owner of `invariant_conflicts` and `invariant_cycle_tasks`: records
 * violations of the graph's invariants (src/projections/Invariants.ts) once
 * each, and settles them when they no longer hold, whoever fixed them.
 */
export const makeInvariantStore = (db: Database) => {
  const pending = (): ReadonlyArray<InvariantRecord> => decodeRecords(db.query(`SELECT ${columns} FROM invariant_conflicts WHERE status = 'pending' ORDER BY id`).all())

  /** Settles every pending record whose violation no longer holds; returns their ids. */
  const settleFixed = (now: number): Array<number> => {
    if (db.query("SELECT 1 FROM invariant_conflicts WHERE status = 'pending' LIMIT 1").get() === null) return []
    const newest = db.query("SELECT max(seq) AS seq FROM events WHERE entity_id = ?")
    const settled: Array<number> = []
    for (const r of pending()) {
      if (stillHolds(db, r.violation)) continue
      const seqs = namedEntities(r.violation).map((id) => (newest.get(id) as { seq: number | null }).seq ?? 0)
      db.query("UPDATE invariant_conflicts SET status = 'settled', settled_seq = ?, settled_at = ? WHERE id = ?").run(Math.max(...seqs), now, r.id)
      db.query("DELETE FROM invariant_cycle_tasks WHERE conflict_id = ?").run(r.id)
      settled.push(r.id)
    }
    return settled
  }

  /**
   * After an import or a pull, inside its transaction: settles what no longer
   * holds, then records each violation around what was touched that no
   * pending record names yet, in this scope (its stream is asked for only
   * when there is something to record: a fetch in a branch that never wrote
   * creates no stream otherwise).
   */
  const detect = (scope: { readonly worktree: string; readonly streamId: () => number }, touched: Touched): Detection => {
    const now = Date.now()
    const settled = settleFixed(now)
    if (touched.size === 0) return { created: [], settled }
    const known = new Set((db.query("SELECT key FROM invariant_conflicts WHERE status = 'pending'").all() as Array<{ key: string }>).map((r) => r.key))
    const fresh = findViolations(db, touched).filter((v) => !known.has(violationKey(v)))
    if (fresh.length === 0) return { created: [], settled }
    let next = (db.query("SELECT coalesce(max(id), 0) AS id FROM invariant_conflicts").get() as { id: number }).id
    const rows = fresh.map((v) => ({ id: ++next, v }))
    const streamId = scope.streamId()
    insertRows(
      db,
      "invariant_conflicts",
      ["id", "worktree", "stream_id", "invariant", "key", "violation", "behind", "status", "settled_seq", "created_at", "settled_at"],
      rows.map(({ id, v }) => [id, scope.worktree, streamId, v.invariant, violationKey(v), JSON.stringify(v), JSON.stringify(eventsBehind(db, v)), "pending", null, now, null])
    )
    const onCycles = rows.flatMap(({ id, v }) => cycleTasks(v).map((task) => [task, id]))
    if (onCycles.length > 0) insertRows(db, "invariant_cycle_tasks", ["task_id", "conflict_id"], onCycles)
    return { created: rows.map((r) => r.id), settled }
  }

  return {
    detect,
    settleFixed,

    /** A scope's records by id: pending ones, or with `all` settled ones too. */
    inScope: (worktree: string, streamId: number, options: { readonly all?: boolean; readonly id?: number } = {}): ReadonlyArray<InvariantRecord> =>
      decodeRecords(
        db.query(
          `SELECT ${columns} FROM invariant_conflicts WHERE ${inScope} ${options.all === true ? "" : "AND status = 'pending'"}
           ${options.id === undefined ? "" : "AND id = ?"} ORDER BY id`
        ).all(...inScopeParams(worktree, streamId), ...(options.id === undefined ? [] : [options.id]))
      ),

    byId: (id: number): InvariantRecord | undefined => decodeRecords(db.query(`SELECT ${columns} FROM invariant_conflicts WHERE id = ?`).all(id))[0],

    /** The worktree that has the branch takes its pending records (write commands only, as for field conflicts). */
    adoptPending: (worktree: string, streamId: number): void => {
      db.query("UPDATE invariant_conflicts SET worktree = ? WHERE stream_id = ? AND status = 'pending' AND worktree <> ?").run(worktree, streamId, worktree)
    },

    /** How many records the branch has pending. */
    countPending: (streamId: number): number =>
      (db.query("SELECT count(*) AS n FROM invariant_conflicts WHERE stream_id = ? AND status = 'pending'").get(streamId) as { n: number }).n
  }
}

export type InvariantStore = ReturnType<typeof makeInvariantStore>
