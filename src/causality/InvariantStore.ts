import type { Database } from "bun:sqlite"
import { Schema } from "effect"
import { draft } from "../events/Event.ts"
import { insertRows } from "../storage/batch.ts"
import { knowledgeOp } from "./causality.ts"
import { Behind, cycleTasks, eventsBehind, findViolations, type InvariantOutcome, namedEntities, stillHolds, type Touched, Violation, violationKey } from "../projections/Invariants.ts"
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

/** The knowledge event that carries a check's outcome on a branch (its frontier is what the branch knew: it learns nothing). */
export const checkDraft = (branch: string, via: "pull" | "fetch" | "check", source: string, outcome: InvariantOutcome) =>
  draft(knowledgeOp, { kind: "stream", id: branch }, { via, source, invariants: outcome })

/** Whether a check found nothing to record or settle (then it writes no event). */
export const isEmptyOutcome = (o: InvariantOutcome): boolean => o.recorded.length === 0 && o.settled.length === 0

/** What one check did, by record id. */
export interface Detection {
  readonly created: ReadonlyArray<number>
  readonly settled: ReadonlyArray<number>
}

/**
 * The one owner of `invariant_conflicts` and `invariant_cycle_tasks`: finds
 * violations of the graph's invariants (src/projections/Invariants.ts) and
 * records each once, settling it when it no longer holds, whoever fixed it.
 * The records follow the log: each check's outcome is carried by a knowledge
 * event (src/sync/InvariantCheck.ts), which `apply` records.
 */
export const makeInvariantStore = (db: Database) => {
  /** The pending record of a violation, by its key. */
  const pendingIdOf = (key: string): number | undefined =>
    (db.query("SELECT id FROM invariant_conflicts WHERE key = ? AND status = 'pending'").get(key) as { id: number } | null)?.id

  const pending = (): ReadonlyArray<InvariantRecord> => decodeRecords(db.query(`SELECT ${columns} FROM invariant_conflicts WHERE status = 'pending' ORDER BY id`).all())

  /**
   * What a check finds, reading only: the pending records that no longer hold
   * (each with the newest event of the entities it names: the one that fixed
   * it), then the violations around what was touched that no pending record
   * names yet. Nothing is written here: the outcome goes into a knowledge
   * event, and `apply` records it, live and when relearning.
   */
  const find = (touched: Touched): InvariantOutcome => {
    const anyPending = db.query("SELECT 1 FROM invariant_conflicts WHERE status = 'pending' LIMIT 1").get() !== null
    if (!anyPending && touched.size === 0) return { recorded: [], settled: [] }
    const open = anyPending ? pending() : []
    const newest = db.query("SELECT max(seq) AS seq FROM events WHERE entity_id = ?")
    const settled = open.filter((r) => !stillHolds(db, r.violation)).map((r) => ({
      key: violationKey(r.violation),
      seq: Math.max(...namedEntities(r.violation).map((id) => (newest.get(id) as { seq: number | null }).seq ?? 0))
    }))
    if (touched.size === 0) return { recorded: [], settled }
    const known = new Set(open.map((r) => violationKey(r.violation)))
    const recorded = findViolations(db, touched).filter((v) => !known.has(violationKey(v))).map((violation) => ({ violation, behind: eventsBehind(db, violation) }))
    return { recorded, settled }
  }

  /**
   * Records one check's outcome in a scope at its transaction's time: settles
   * the pending records it names, then numbers its violations after the
   * greatest id so far (so ids follow the log, and a relearn gives the same).
   */
  const apply = (scope: { readonly worktree: string; readonly streamId: number }, outcome: InvariantOutcome, at: number): Detection => {
    const settled: Array<number> = []
    for (const s of outcome.settled) {
      const id = pendingIdOf(s.key)
      if (id === undefined) continue
      db.query("UPDATE invariant_conflicts SET status = 'settled', settled_seq = ?, settled_at = ? WHERE id = ?").run(s.seq, at, id)
      db.query("DELETE FROM invariant_cycle_tasks WHERE conflict_id = ?").run(id)
      settled.push(id)
    }
    if (outcome.recorded.length === 0) return { created: [], settled }
    let next = (db.query("SELECT coalesce(max(id), 0) AS id FROM invariant_conflicts").get() as { id: number }).id
    const rows = outcome.recorded.map((r) => ({ id: ++next, ...r }))
    insertRows(
      db,
      "invariant_conflicts",
      ["id", "worktree", "stream_id", "invariant", "key", "violation", "behind", "status", "settled_seq", "created_at", "settled_at"],
      rows.map(({ id, violation: v, behind }) => [id, scope.worktree, scope.streamId, v.invariant, violationKey(v), JSON.stringify(v), JSON.stringify(behind), "pending", null, at, null])
    )
    const onCycles = rows.flatMap(({ id, violation }) => cycleTasks(violation).map((task) => [task, id]))
    if (onCycles.length > 0) insertRows(db, "invariant_cycle_tasks", ["task_id", "conflict_id"], onCycles)
    return { created: rows.map((r) => r.id), settled }
  }

  return {
    find,
    apply,

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
      (db.query("SELECT count(*) AS n FROM invariant_conflicts WHERE stream_id = ? AND status = 'pending'").get(streamId) as { n: number }).n,

    /** The ids of the pending records of every scope, oldest first, at most `limit`. */
    pendingIds: (limit: number): Array<number> =>
      (db.query("SELECT id FROM invariant_conflicts WHERE status = 'pending' ORDER BY id LIMIT ?").all(limit) as Array<{ id: number }>).map((r) => r.id),

    /** Hands a stream's pending records to another stream of the same branch (a replica's new id). */
    movePending: (from: number, to: number): void => {
      db.query("UPDATE invariant_conflicts SET stream_id = ? WHERE stream_id = ? AND status = 'pending'").run(to, from)
    }
  }
}

export type InvariantStore = ReturnType<typeof makeInvariantStore>
