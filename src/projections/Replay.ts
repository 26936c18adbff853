import { Database } from "bun:sqlite"
import { Context, Effect, Either, Layer } from "effect"
import { type ChainReport, checkChains, damagedTriggers } from "../events/chain.ts"
import { historiesOf, type LogRow } from "../events/log.ts"
import { chunked } from "../storage/batch.ts"
import { readStoredPayload } from "../events/operations.ts"
import { GroveError } from "../errors/index.ts"
import { type DatabaseBusy, type DatabaseError, trySqlite } from "../storage/errors.ts"
import { immediateTransaction, Sqlite } from "../storage/Sqlite.ts"
import { withBulkCache } from "../storage/bulkCache.ts"
import { applyEvents, type ProjectableEvent } from "./Projector.ts"
import { findViolations, type Violation } from "./Invariants.ts"
import { fillSearch } from "./Search.ts"
import { fillEdgeCounts } from "./EdgeCounts.ts"
import { fillStatusCounts } from "./StatusCounts.ts"
import { projectionTables, tableOf } from "./tables.ts"

export class VerifyMismatch extends GroveError("VerifyMismatch", "verify_mismatch") {}
export class LogTampered extends GroveError("LogTampered", "log_tampered") {}
export class InvariantViolated extends GroveError("InvariantViolated", "invariant_violated") {}

/** Live state that breaks the graph's rules: a cycle of dependency edges, or a child whose parent is not live. */
export interface InvariantFinding {
  readonly code: "dependency_cycle" | "orphan"
  readonly message: string
  readonly violation: Violation
}

const findingOf = (v: Violation): InvariantFinding =>
  v.invariant === "cycle"
    ? { code: "dependency_cycle", message: `dependency cycle ${[...v.edges.map((e) => e.source.id), v.edges[0]!.source.id].join(" -> ")}`, violation: v }
    : { code: "orphan", message: `${v.child.kind} ${v.child.id} is live but its ${v.child.kind === "dependency" ? "end" : "parent"} ${v.parent.kind} ${v.parent.id} is not`, violation: v }

/** The log's own integrity: every stream's hash chain, and the triggers that keep it append-only. */
export interface LogIntegrity {
  readonly intact: boolean
  readonly chains: ChainReport
  /** Append-only triggers missing or altered. */
  readonly damagedTriggers: ReadonlyArray<string>
}

export const logIntegrity = (db: Database): LogIntegrity => {
  const chains = checkChains(db)
  const damaged = damagedTriggers(db)
  return { intact: chains.broken.length === 0 && damaged.length === 0, chains, damagedTriggers: damaged }
}

/** Why a log is not intact, naming the first bad event of each broken stream. */
export const tamperedText = (log: LogIntegrity) => [
  ...log.chains.broken.map((b) =>
    `stream ${b.stream}: event ${b.id} (seq ${b.seq}, position ${b.pos}) ${b.reason === "position_gap" ? "does not follow the position before it" : "does not match its digest"}; the chain is broken from there on`
  ),
  ...log.damagedTriggers.map((t) => `the append-only trigger ${t} is missing or altered (grove doctor --fix restores it)`)
].join("\n")

const pageSize = 10_000

/** Reads and applies events: those that fail their Schema never reached the live tables, so they are skipped (their seqs go to `unreadable`). */
export const applyStored = (
  target: Database,
  rows: ReadonlyArray<Pick<LogRow, "seq" | "id" | "op" | "entity_kind" | "entity_id" | "payload" | "clock">>,
  unreadable?: Set<number>
): number => {
  const readable = rows.flatMap((r): Array<ProjectableEvent> => {
    const payload = readStoredPayload(r.op, r.payload)
    if (Either.isRight(payload)) return [{ id: r.id, op: r.op, entityKind: r.entity_kind, entityId: r.entity_id, clock: r.clock, payload: payload.right } as ProjectableEvent]
    unreadable?.add(r.seq)
    return []
  })
  applyEvents(target, readable)
  return readable.length
}

/**
 * Projects these entities again from their whole history in clock order
 * (ties by id): each entity's rows are a fold of its own events, so events
 * imported out of clock order are placed by removing and replaying only the
 * entities they touch.
 */
export const reproject = (db: Database, entityIds: ReadonlyArray<string>): void => {
  chunked(entityIds, (chunk, ph) => {
    for (const table of Object.values(tableOf)) db.query(`DELETE FROM ${table} WHERE id IN (${ph})`).run(...chunk)
    db.query(`DELETE FROM leases WHERE entity_id IN (${ph})`).run(...chunk)
    // An edge's id is `source>target`; node ids are unique across kinds.
    for (const edge of chunk.filter((id) => id.includes(">"))) {
      const [source, target] = edge.split(">")
      db.query("DELETE FROM dependencies WHERE source_id = ? AND target_id = ?").run(source!, target!)
    }
    applyStored(db, historiesOf(db, chunk, "oldest first"))
    return []
  })
}

/**
 * Feeds the whole log to `apply` in clock order (ties by id), a page at a
 * time: the live state is every field's greatest-clock write, and events
 * imported from other clones can be older than ones written here.
 */
const replayLog = (source: Database, target: Database, unreadable?: Set<number>, onPage?: (replayed: number) => void): number => {
  const page = source.query(`SELECT seq, op, entity_kind, entity_id, payload, clock, id FROM events WHERE (clock, id) > (?, ?) ORDER BY clock, id LIMIT ?`)
  let after: [number, string] = [0, ""]
  let replayed = 0
  for (;;) {
    const rows = page.all(...after, pageSize) as Array<Pick<LogRow, "seq" | "op" | "entity_kind" | "entity_id" | "payload" | "clock" | "id">>
    if (rows.length === 0) return replayed
    replayed += applyStored(target, rows, unreadable)
    const last = rows[rows.length - 1]!
    after = [last.clock, last.id]
    onPage?.(replayed)
  }
}

/**
 * Replays the whole log into the projection tables, emptied first.
 * The triggers are off for the load (a row at a time, each FTS5 update, the
 * search ones cost more than the replay itself): search, the
 * dependency counts and the status counts are filled once at the end and the triggers are put back.
 */
const loadProjection = (db: Database, unreadable: Set<number>, onPage?: (replayed: number) => void): number => {
  const triggers = projectionSchema(db, "trigger")
  for (const { name } of triggers) db.run(`DROP TRIGGER ${name}`)
  // The FTS5 index is rebuilt whole by fillSearch.
  for (const t of projectionTables) if (t.name !== "search") db.run(`DELETE FROM ${t.name}`)
  const events = replayLog(db, db, unreadable, onPage)
  fillDerived(db)
  for (const { sql } of triggers) db.run(sql)
  return events
}

/** The tables and columns the triggers keep, filled once from the rest of a projection loaded without them. */
const fillDerived = (db: Database): void => {
  fillSearch(db)
  fillEdgeCounts(db)
  fillStatusCounts(db)
}

/** The live projection tables' or their secondary indexes' names and DDL. */
const projectionSchema = (db: Database, type: "table" | "index" | "trigger") =>
  db.query(
    `SELECT name, sql FROM sqlite_master WHERE type = ? AND sql IS NOT NULL
     AND tbl_name IN (${projectionTables.map(() => "?").join(", ")})`
  ).all(type, ...projectionTables.map((t) => t.name)) as Array<{ name: string; sql: string }>

export interface TableChecksum {
  readonly table: string
  readonly rows: number
  readonly checksum: string
}

/** Order-stable digest of a table's rows. */
export const checksumTable = (db: Database, table: string, key: string): TableChecksum =>
  checksumQuery(db, table, `SELECT * FROM ${table} ORDER BY ${key}`)

/** Order-stable digest of what a query returns (`sql` orders its rows), named `table`. */
export const checksumQuery = (db: Database, table: string, sql: string): TableChecksum => {
  const hash = new Bun.CryptoHasher("sha256")
  let rows = 0
  for (const row of db.query(sql).values()) {
    hash.update(JSON.stringify(row))
    hash.update("\n")
    rows++
  }
  return { table, rows, checksum: hash.digest("hex").slice(0, 16) }
}

export interface VerifyReport {
  readonly identical: boolean
  readonly log: LogIntegrity
  readonly events: number
  readonly tables: ReadonlyArray<{ readonly table: string; readonly live: TableChecksum; readonly replayed: TableChecksum; readonly identical: boolean }>
  /** Cycles and orphans in the live state (docs/sync.md, Invariant conflicts). */
  readonly findings: ReadonlyArray<InvariantFinding>
}

/** Rebuilds the projection from the log, and verifies the live tables against a scratch replay. */
export class Replay extends Context.Tag("grove/Replay")<Replay, {
  /**
   * Replays the log into fresh projection tables, in one write transaction;
   * refused (log_tampered) when a stream's hash chain is broken, so an edited
   * log is never laundered into the live state.
   */
  readonly rebuild: (
    onProgress?: (replayed: number) => void,
    /**
     * More state derived from the log (sync state, src/causality/Relearn.ts), rebuilt in the same transaction;
     * it gets the seqs of the events whose payload failed its Schema (the replay checked every one).
     */
    also?: (unreadable: ReadonlySet<number>) => void
  ) => Effect.Effect<{ readonly events: number }, LogTampered | DatabaseBusy | DatabaseError>
  /** Replays into a scratch in-memory database and compares per-table checksums. */
  readonly verify: ReturnType<typeof trySqlite<VerifyReport>>
}>() {
  static readonly layer = Layer.effect(
    Replay,
    Effect.map(Sqlite, ({ db }) => {
      const rebuild = (onProgress?: (replayed: number) => void, also?: (unreadable: ReadonlySet<number>) => void) =>
        trySqlite(() =>
          withBulkCache(db, () =>
            immediateTransaction(db, () => {
              const chains = checkChains(db)
              if (chains.broken.length > 0) return chains

              // Bulk load: secondary indexes are dropped and built again once, from sorted data, at the end.
              const indexes = projectionSchema(db, "index")
              for (const { name } of indexes) db.run(`DROP INDEX ${name}`)
              const unreadable = new Set<number>()
              const events = loadProjection(db, unreadable, onProgress)
              for (const { sql } of indexes) db.run(sql)
              also?.(unreadable)
              return { events }
            }))
        ).pipe(Effect.flatMap((r) =>
          "broken" in r
            ? Effect.fail(new LogTampered({
              message: `refusing to rebuild from a log whose hash chain is broken; nothing was changed:\n${
                tamperedText({ intact: false, chains: r, damagedTriggers: [] })
              }`,
              details: { broken: r.broken }
            }))
            : Effect.succeed(r)
        ))

      const verify = trySqlite(() =>
        // One read transaction: the live tables and the log are read from the same snapshot.
        db.transaction(() => {
          const scratch = new Database(":memory:")
          try {
            // Tables only: the checksums read in key order, so the scratch copy needs no secondary index.
            for (const { sql } of projectionSchema(db, "table")) scratch.run(sql)
            // The search tables and the dependency counts are filled from the others, as a rebuild fills them.
            const events = scratch.transaction(() => {
              const n = replayLog(db, scratch)
              fillDerived(scratch)
              return n
            })()
            const tables = projectionTables.map((t) => {
              const live = checksumTable(db, t.name, t.key)
              const replayed = checksumTable(scratch, t.name, t.key)
              return { table: t.name, live, replayed, identical: live.checksum === replayed.checksum && live.rows === replayed.rows }
            })
            const findings = findViolations(db).map(findingOf)
            return { identical: tables.every((t) => t.identical), log: logIntegrity(db), events, tables, findings }
          } finally {
            scratch.close()
          }
        }).deferred()
      )
      return { rebuild, verify }
    })
  )
}
