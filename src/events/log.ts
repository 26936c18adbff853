import type { Database } from "bun:sqlite"
import { chunked, insertRows } from "../storage/batch.ts"

// Kept importable from here: the causality modules read the log in chunks too.
export { chunked }

/**
 * The log's tables, `events` and `transactions`, and the only code that writes
 * them. Both ways events arrive (written here, imported from another clone)
 * append through `appendRows`, so the column list, the local sequence
 * numbering and the clock's advance exist once. Reads that several modules
 * share live here too, over the one row type. Raw bun:sqlite: these run per
 * batch on hot paths (append, pull, import, replay).
 */

/** An event as stored: the log's one row type. */
export type LogRow = {
  readonly seq: number
  readonly id: string
  readonly tx_id: number
  readonly stream_id: number
  readonly clock: number
  readonly entity_kind: string
  readonly entity_id: string
  readonly op: string
  /** The payload's JSON text. */
  readonly payload: string
  readonly payload_version: number
  readonly cause_id: string | null
  /** The frontier the stream had when this was written (null: it had pulled nothing). */
  readonly frontier_id: number | null
  readonly if_version: 0 | 1
  /** Its place in its stream, the same in every clone. */
  readonly pos: number
  /** For an --if-version write imported from another clone: what its writer's database held. */
  readonly seen_frontier_id: number | null
  /** Its link in its stream's hash chain (src/events/chain.ts). */
  readonly digest: string
}

const columns = [
  "seq",
  "id",
  "tx_id",
  "stream_id",
  "clock",
  "entity_kind",
  "entity_id",
  "op",
  "payload",
  "payload_version",
  "cause_id",
  "frontier_id",
  "if_version",
  "pos",
  "seen_frontier_id",
  "digest"
] as const satisfies ReadonlyArray<keyof LogRow>

/** Every column, for `SELECT ${logColumns} FROM events`. */
export const logColumns = columns.join(", ")

/** Where a transaction of events was written. */
export interface TransactionContext {
  readonly streamId: number
  readonly worktree: string
  readonly head: string | null
  readonly actor: string
  /** Wall time of the commit, in milliseconds. */
  readonly at: number
}

/** Records a transaction's git context once, however many events it appends; returns its id. */
export const openTransaction = (db: Database, tx: TransactionContext): number =>
  (db.query("INSERT INTO transactions (stream_id, worktree, head, actor, committed_at) VALUES (?, ?, ?, ?, ?) RETURNING id")
    .get(tx.streamId, tx.worktree, tx.head, tx.actor, tx.at) as { id: number }).id

/** The last clock stamp handed out in this database. */
export const lastClock = (db: Database): number => (db.query("SELECT last FROM hlc").get() as { last: number }).last

/**
 * Appends events after the log's last seq, in the order given, inside the
 * caller's write transaction, and moves the clock past every stamp they carry.
 * Returns the rows as stored.
 */
export const appendRows = (db: Database, rows: ReadonlyArray<Omit<LogRow, "seq">>): ReadonlyArray<LogRow> => {
  if (rows.length === 0) return []
  const base = newestSeqOfLog(db)
  const stored = rows.map((r, i): LogRow => ({ ...r, seq: base + i + 1 }))
  insertRows(db, "events", columns, stored.map((r) => columns.map((c) => r[c])))
  let newest = 0
  for (const r of stored) newest = Math.max(newest, r.clock)
  db.query("UPDATE hlc SET last = max(last, ?)").run(newest)
  return stored
}

/** The position the next event of a stream takes. */
export const nextPos = (db: Database, streamId: number): number =>
  (db.query("SELECT coalesce(max(pos), 0) + 1 AS pos FROM events WHERE stream_id = ?").get(streamId) as { pos: number }).pos

/** The highest seq of a stream (0 when it has none). */
export const newestSeq = (db: Database, streamId: number): number =>
  (db.query("SELECT coalesce(max(seq), 0) AS seq FROM events WHERE stream_id = ?").get(streamId) as { seq: number }).seq

/** Whether an event with this id is in the log. */
export const holds = (db: Database, id: string): boolean => db.query("SELECT 1 FROM events WHERE id = ?").get(id) !== null

/** The event at a position of a stream. */
export const rowAt = (db: Database, streamId: number, pos: number): LogRow | undefined =>
  (db.query(`SELECT ${logColumns} FROM events WHERE stream_id = ? AND pos = ?`).get(streamId, pos) as LogRow | null) ?? undefined

/** The columns learning reads (a pull reads them for every event: the digest and positions stay behind). */
export type LearningRow = Pick<
  LogRow,
  "seq" | "id" | "stream_id" | "entity_kind" | "entity_id" | "op" | "payload" | "clock" | "if_version" | "frontier_id" | "seen_frontier_id" | "cause_id"
>
const learningColumnNames = ["seq", "id", "stream_id", "entity_kind", "entity_id", "op", "payload", "clock", "if_version", "frontier_id", "seen_frontier_id", "cause_id"]
const learningColumns = learningColumnNames.join(", ")
/** The columns of a LearningRow, read from the events table under `alias` (for a join). */
export const learningColumnsOf = (alias: string) => learningColumnNames.map((c) => `${alias}.${c}`).join(", ")

/** Up to this many ranges are read stream by stream and merged; each adds a level to the merge every row passes. */
const mergedRanges = 8

/**
 * The events of these streams' seq ranges (lo, hi], in seq order, at most
 * `limit`: what a stream learns when it catches up (src/causality/CatchUp.ts).
 */
export const rowsInRanges = (
  db: Database,
  ranges: ReadonlyArray<{ readonly stream: number; readonly lo: number; readonly hi: number }>,
  limit: number
): Array<LearningRow> => {
  if (ranges.length === 0) return []
  if (ranges.length <= mergedRanges) {
    // Each range read through events_by_stream, the ranges merged in seq order (SQLite's MERGE of a compound SELECT):
    // only the ranges' own rows are read, not the pulling branch's events interleaved with them.
    return db.query(
      `${ranges.map(() => `SELECT ${learningColumns} FROM events WHERE stream_id = ? AND seq > ? AND seq <= ?`).join(" UNION ALL ")} ORDER BY seq LIMIT ?`
    ).all(...ranges.flatMap((r) => [r.stream, r.lo, r.hi]), limit) as Array<LearningRow>
  }
  const from = Math.min(...ranges.map((r) => r.lo))
  const to = Math.max(...ranges.map((r) => r.hi))
  // Many ranges: `+stream_id` keeps SQLite on the seq range, one walk of the log instead of a merge of many probes.
  return db.query(
    `SELECT ${learningColumns} FROM events WHERE seq > ? AND seq <= ?
     AND (${ranges.map(() => "(+stream_id = ? AND seq > ? AND seq <= ?)").join(" OR ")})
     ORDER BY seq LIMIT ?`
  ).all(from, to, ...ranges.flatMap((r) => [r.stream, r.lo, r.hi]), limit) as Array<LearningRow>
}

/** How many events of a stream's seq range (lo, hi] are not of operation `except`. */
export const countOpsIn = (db: Database, range: { readonly stream: number; readonly lo: number; readonly hi: number }, except: string): number =>
  (db.query("SELECT count(*) AS n FROM events WHERE stream_id = ? AND seq > ? AND seq <= ? AND op <> ?").get(range.stream, range.lo, range.hi, except) as {
    n: number
  }).n

/** The events with these seqs, as learning reads them. */
export const rowsBySeq = (db: Database, seqs: ReadonlyArray<number>): Array<LearningRow> =>
  chunked(seqs, (chunk, ph) => db.query(`SELECT ${learningColumns} FROM events WHERE seq IN (${ph})`).all(...chunk) as Array<LearningRow>)

/** The events of these entities in clock order (ties by id): each entity's history, as replay applies it. */
export const historiesOf = (db: Database, entityIds: ReadonlyArray<string>, order: "oldest first" | "newest first"): Array<LearningRow> =>
  chunked(entityIds, (chunk, ph) =>
    db.query(
      `SELECT ${learningColumns} FROM events WHERE entity_id IN (${ph}) ORDER BY clock ${order === "oldest first" ? "ASC, id ASC" : "DESC, id DESC"}`
    ).all(...chunk) as Array<LearningRow>)

/** The creation events of these entities. */
export const creationsOf = (db: Database, entityIds: ReadonlyArray<string>): Array<LearningRow> =>
  chunked(entityIds, (chunk, ph) =>
    db.query(
      `SELECT ${learningColumns} FROM events WHERE entity_id IN (${ph}) AND op IN ('epic.created', 'task.created', 'subtask.created')`
    ).all(...chunk) as Array<LearningRow>)

/** Those of these entities the log holds an event of a delete's cascade for (a small partial index, migration 11). */
export const withCascadeEvents = (db: Database, entityIds: ReadonlyArray<string>): Set<string> => {
  // Logs hold few cascaded events: when fewer than the entities asked about, reading them all costs less than a
  // search per entity.
  const cascaded = db.query("SELECT entity_id FROM events WHERE cause_id IS NOT NULL LIMIT ?").all(entityIds.length) as Array<{ entity_id: string }>
  if (cascaded.length < entityIds.length) {
    if (cascaded.length === 0) return new Set()
    const asked = new Set(entityIds)
    return new Set(cascaded.map((r) => r.entity_id).filter((id) => asked.has(id)))
  }
  return new Set(
    chunked(entityIds, (chunk, ph) =>
      db.query(`SELECT DISTINCT entity_id FROM events WHERE cause_id IS NOT NULL AND entity_id IN (${ph})`).all(...chunk) as Array<{ entity_id: string }>)
      .map((r) => r.entity_id)
  )
}

/** An entity's newest event in each stream that wrote to it: its seq and causal context. */
export const newestPerStream = (db: Database, entityId: string): Array<Pick<LogRow, "stream_id" | "seq" | "frontier_id">> =>
  // SQLite takes the bare column frontier_id from the row holding max(seq).
  db.query("SELECT stream_id, max(seq) AS seq, frontier_id FROM events WHERE entity_id = ? GROUP BY stream_id").all(entityId) as Array<
    Pick<LogRow, "stream_id" | "seq" | "frontier_id">
  >

/** Per entity, the greatest clock its history holds. */
export const latestClocks = (db: Database, entityIds: ReadonlyArray<string>): Map<string, number> =>
  new Map(
    chunked(entityIds, (chunk, ph) =>
      db.query(`SELECT entity_id AS e, max(clock) AS clock FROM events WHERE entity_id IN (${ph}) GROUP BY entity_id`)
        .all(...chunk) as Array<{ e: string; clock: number }>).map((r) => [r.e, r.clock])
  )

/** An event with the git context of its transaction, as people read it. */
export type LogEntry = LogRow & {
  readonly stream: string
  readonly worktree: string
  readonly head: string | null
  readonly actor: string
  /** Wall time of the transaction's commit, in milliseconds. */
  readonly committed_at: number
}

const entrySelect = `SELECT e.*, s.name AS stream, t.worktree, t.head, t.actor, t.committed_at
  FROM events e JOIN transactions t ON t.id = e.tx_id JOIN streams s ON s.id = e.stream_id`

/** A stream's events after position `after`, in stream order, with the git context and commit time of their transactions. */
export const streamEntriesAfter = (db: Database, streamId: number, after: number): Array<LogEntry> =>
  db.query(`${entrySelect} WHERE e.stream_id = ? AND e.pos > ? ORDER BY e.pos`).all(streamId, after) as Array<LogEntry>

/** The events after seq `after`, in seq order, at most `limit`, with their git context and transaction time. */
export const entriesAfter = (db: Database, after: number, limit: number): Array<LogEntry> =>
  db.query(`${entrySelect} WHERE e.seq > ? ORDER BY e.seq LIMIT ?`).all(after, limit) as Array<LogEntry>

/** A stream's newest event committed before `at` (ms), with its git context. */
export const newestBefore = (db: Database, streamId: number, at: number): LogEntry | undefined =>
  (db.query(`${entrySelect} WHERE e.stream_id = ? AND t.committed_at < ? ORDER BY e.seq DESC LIMIT 1`).get(streamId, at) as LogEntry | null) ?? undefined

/** This replica's streams whose newest event before `at` was written at head `commit`. */
export const streamsAtHead = (db: Database, replicaId: number, commit: string, at: number): Array<number> =>
  (db.query(
    `SELECT s.id AS id FROM streams s WHERE s.replica_id = ? AND (
       SELECT t.head FROM events e JOIN transactions t ON t.id = e.tx_id
       WHERE e.stream_id = s.id AND t.committed_at < ? ORDER BY e.seq DESC LIMIT 1) = ?`
  ).all(replicaId, at, commit) as Array<{ id: number }>).map((r) => r.id)

/** A stream's first event of an operation. */
export const firstOfOp = (db: Database, streamId: number, op: string): LogRow | undefined =>
  (db.query(`SELECT ${logColumns} FROM events WHERE stream_id = ? AND op = ? ORDER BY seq LIMIT 1`).get(streamId, op) as LogRow | null) ?? undefined

/** One event with its git context. */
export const entryBySeq = (db: Database, seq: number): LogEntry | undefined =>
  (db.query(`${entrySelect} WHERE e.seq = ?`).get(seq) as LogEntry | null) ?? undefined

/** The newest events (optionally of one stream or entity), returned oldest first. */
export const latestEntries = (
  db: Database,
  filter: { readonly stream?: string | undefined; readonly entity?: string | undefined; readonly limit: number }
): Array<LogEntry> => {
  const where: Array<string> = []
  const params: Array<string | number> = []
  if (filter.stream !== undefined) where.push("s.name = ?"), params.push(filter.stream)
  if (filter.entity !== undefined) where.push("e.entity_id = ?"), params.push(filter.entity)
  const rows = db.query(`${entrySelect} ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY e.seq DESC LIMIT ?`)
    .all(...params, filter.limit) as Array<LogEntry>
  return rows.reverse()
}

/** The highest seq in the log. */
export const newestSeqOfLog = (db: Database): number => (db.query("SELECT coalesce(max(seq), 0) AS seq FROM events").get() as { seq: number }).seq

/** Holds back an event that cannot be used (it stays in the log): pulls count it, replay and bases skip it. */
export const quarantine = (db: Database, seq: number, why: { readonly reason: string; readonly detail: string }): void => {
  db.query("INSERT OR IGNORE INTO quarantine (event_seq, reason, detail, quarantined_at) VALUES (?, ?, ?, ?)").run(seq, why.reason, why.detail, Date.now())
}

/** The events a cascade produced: those whose cause is `eventId`, in log order. */
export const causedBy = (db: Database, eventId: string): Array<LogRow> =>
  db.query(`SELECT ${logColumns} FROM events WHERE cause_id = ? ORDER BY seq`).all(eventId) as Array<LogRow>
