import type { Database } from "bun:sqlite"
import { Either } from "effect"
import { entriesAfter, type LogEntry } from "../events/log.ts"
import { type PayloadOf, readStoredPayload } from "../events/operations.ts"
import { isLocalStream } from "../events/streams.ts"
import { checksumQuery, type TableChecksum } from "../projections/Replay.ts"
import { knowledgeOp } from "./causality.ts"
import type { CatchUp } from "./CatchUp.ts"
import type { ConflictStore } from "./ConflictStore.ts"
import { makeInvariantStore } from "./InvariantStore.ts"
import { immediateTransaction } from "../storage/Sqlite.ts"
import { covers } from "./Knowledge.ts"
import type { Knowledge } from "./Knowledge.ts"
import type { Learner } from "./Learner.ts"
import type { LearntEvents } from "./LearntEvents.ts"

/**
 * The sync tables as verify compares them. Frontiers are stored once each and
 * pointed at by id, and a relearn stores them anew: compared by their vectors.
 */
const syncViews: ReadonlyArray<{ readonly table: string; readonly sql: string }> = [
  { table: "stream_knowledge", sql: "SELECT k.stream_id, f.vector FROM stream_knowledge k JOIN frontiers f ON f.id = k.frontier_id ORDER BY 1" },
  { table: "heads", sql: "SELECT stream_id, entity_id, field, event_seq FROM heads ORDER BY 1, 2, 3, 4" },
  {
    table: "if_version_floors",
    sql: "SELECT v.stream_id, v.entity_id, v.field, v.seq, f.vector FROM if_version_floors v LEFT JOIN frontiers f ON f.id = v.frontier_id ORDER BY 1, 2, 3"
  },
  { table: "conflicts", sql: "SELECT * FROM conflicts ORDER BY id" },
  { table: "invariant_conflicts", sql: "SELECT * FROM invariant_conflicts ORDER BY id" },
  { table: "invariant_cycle_tasks", sql: "SELECT * FROM invariant_cycle_tasks ORDER BY 1, 2" }
]

export interface SyncTableCheck {
  readonly table: string
  readonly live: TableChecksum
  readonly replayed: TableChecksum
  readonly identical: boolean
}

class Rollback extends Error {}

/**
 * Sync state (each stream's knowledge, heads, --if-version floors, conflict
 * records and their settlement) is a function of the log: writes carry what
 * their stream knew as their causal context, pulls append knowledge events,
 * and a record's times are its transaction's. Relearning walks the log in seq
 * order and does again what each transaction did: a stream catches up to an
 * event's causal context (what a pull or a write's closure learnt, as incoming
 * events), then learns the event as its own write; a stream imported from
 * another clone knows what its newest event knew. A pull or a resolve takes
 * the branch's pending records into its worktree first, as it did then.
 * Invariant records come from the knowledge events that carry each check's
 * outcome (a pull's, a fetch's, a write's), applied in log order.
 */
export const makeRelearn = (
  db: Database,
  knowledge: Knowledge,
  events: LearntEvents,
  learner: Learner,
  catchUp: CatchUp,
  conflicts: ConflictStore
) => {
  const invariants = makeInvariantStore(db)
  /**
   * `unreadable`: when the caller has just checked every stored payload against
   * its Schema in this transaction (a rebuild's replay), the seqs that failed;
   * the others are only parsed. Without it, each payload is checked here.
   */
  const run = (unreadable?: ReadonlySet<number>): number => {
    const payloadOf = (r: LogEntry): unknown =>
      unreadable === undefined ? Either.getOrUndefined(readStoredPayload(r.op, r.payload)) : unreadable.has(r.seq) ? undefined : JSON.parse(r.payload)
    for (const t of ["heads", "if_version_floors", "conflicts", "invariant_cycle_tasks", "invariant_conflicts", "stream_knowledge"]) db.run(`DELETE FROM ${t}`)
    const isLocal = isLocalStream(db)
    /** A run of one transaction's events with one causal context: learnt together. */
    const learnGroup = (group: ReadonlyArray<LogEntry>) => {
      const first = group[0]!
      const scope = { worktree: first.worktree, streamId: first.stream_id }
      const payloads = group.map(payloadOf)
      // A pull (or a fork) and a resolve take the branch's pending records of both kinds first; a fetch's or a write's check does not.
      const via = first.op === knowledgeOp ? (payloads[0] as PayloadOf<typeof knowledgeOp> | undefined)?.via : undefined
      if (via === "pull" || via === "fork" || first.op === "conflict.resolved") {
        conflicts.adoptPending(scope.worktree, scope.streamId)
        invariants.adoptPending(scope.worktree, scope.streamId)
      }
      const target = knowledge.byId(first.frontier_id)
      if (!covers(knowledge.current(scope.streamId), target, scope.streamId)) catchUp.step(scope, target, first.committed_at)
      const own = group.flatMap((r, i) => (payloads[i] === undefined ? [] : [events.fromRow(r, payloads[i]!)]))
      learner.learn(scope, own, "own", first.committed_at)
      // Invariant records, as the knowledge events that carry each check's outcome recorded them (InvariantStore.apply).
      for (const [i, r] of group.entries()) {
        const outcome = r.op === knowledgeOp ? (payloads[i] as PayloadOf<typeof knowledgeOp> | undefined)?.invariants : undefined
        if (outcome !== undefined) invariants.apply(scope, outcome, r.committed_at)
      }
    }
    let after = 0
    let total = 0
    let group: Array<LogEntry> = []
    for (;;) {
      const rows = entriesAfter(db, after, 5_000)
      if (rows.length === 0) break
      for (const r of rows) {
        if (!isLocal(r.stream_id)) {
          if (r.frontier_id !== null) knowledge.setCurrent(r.stream_id, r.frontier_id)
          continue
        }
        const last = group.at(-1)
        if (last !== undefined && (last.tx_id !== r.tx_id || last.frontier_id !== r.frontier_id)) {
          learnGroup(group)
          group = []
        }
        group.push(r)
      }
      after = rows.at(-1)!.seq
      total += rows.length
    }
    if (group.length > 0) learnGroup(group)
    return total
  }

  const checksums = () => syncViews.map((v) => checksumQuery(db, v.table, v.sql))

  return {
    /** Recomputes the sync tables from the log, inside the caller's write transaction; returns the events walked. */
    run,
    /**
     * Compares the sync tables with a relearn from the log: relearns in a write
     * transaction that is always rolled back, so nothing changes.
     */
    verify: (): ReadonlyArray<SyncTableCheck> => {
      let out: ReadonlyArray<SyncTableCheck> = []
      try {
        immediateTransaction(db, () => {
          const live = checksums()
          run()
          const replayed = checksums()
          out = live.map((l, i) => ({
            table: l.table,
            live: l,
            replayed: replayed[i]!,
            identical: l.checksum === replayed[i]!.checksum && l.rows === replayed[i]!.rows
          }))
          throw new Rollback()
        })
      } catch (e) {
        if (!(e instanceof Rollback)) throw e
      }
      return out
    }
  }
}

export type Relearn = ReturnType<typeof makeRelearn>
