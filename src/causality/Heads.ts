import type { Database } from "bun:sqlite"
import { readStoredPayload, writesOf } from "../events/operations.ts"
import { Either } from "effect"
import { deleted, isCreation, type Write } from "../events/writes.ts"
import { type CausalEvent, type Frontier, inPast, isCascadeDelete } from "./causality.ts"
import type { Knowledge } from "./Knowledge.ts"

/** An event as conflict detection sees it. */
export interface LearntEvent extends CausalEvent {
  readonly id: string
  readonly entityKind: string
  readonly payload: unknown
  readonly clock: number
}

export interface EventRow {
  readonly seq: number
  readonly id: string
  readonly stream_id: number
  readonly entity_kind: string
  readonly entity_id: string
  readonly op: string
  readonly payload: string
  readonly clock: number
  readonly if_version: number
  readonly frontier_id: number | null
  readonly seen_frontier_id: number | null
  readonly cause_id: string | null
}

export const eventRowColumns = "seq, id, stream_id, entity_kind, entity_id, op, payload, clock, if_version, frontier_id, seen_frontier_id, cause_id"

/** A conflict record while a batch works on it. */
interface Record {
  id: number | undefined
  readonly worktree: string
  readonly entityKind: string
  readonly entityId: string
  readonly field: string
  base: string | null
  baseSeq: number | null
  ours: string
  oursSeq: number
  theirs: string
  theirsSeq: number
  status: "pending" | "settled"
  settledSeq: number | null
  readonly createdAt: number
  settledAt: number | null
  /** Which event pair base must be computed for, and on which field. */
  sides: { readonly ours: LearntEvent; readonly theirs: LearntEvent; readonly baseField: string } | undefined
}

export interface LearnReport {
  readonly created: ReadonlyArray<number>
  readonly settled: ReadonlyArray<number>
}

const chunked = <A>(items: ReadonlyArray<A>, size: number): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}
/**
 * What the --if-version writes a stream knows to a field have in their past by rule (d): every write
 * below seq (those written here), and per stream up to seen (those imported: what their writer held).
 */
interface Floor {
  readonly seq: number
  readonly seen: Frontier
}

const underFloor = (y: LearntEvent, floor: Floor) => y.seq < floor.seq || y.seq <= (floor.seen[y.streamId] ?? 0)

const raiseFloor = (floor: Floor = { seq: 0, seen: {} }, y: LearntEvent): Floor => {
  if (y.seen === null) return { seq: Math.max(floor.seq, y.seq), seen: floor.seen }
  const seen: { [stream: number]: number } = { ...floor.seen }
  for (const [s, seq] of Object.entries(y.seen)) seen[Number(s)] = Math.max(seen[Number(s)] ?? 0, seq)
  return { seq: floor.seq, seen }
}

const placeholders = (n: number) => Array(n).fill("?").join(", ")
const key2 = (entity: string, field: string) => `${entity}\u0000${field}`

/**
 * Conflict detection by causally maximal writes ("heads"): for each stream and
 * field it has seen written, the writes no other known write has in its causal
 * past. Learning an event touches only the fields it writes and the entity's
 * pending records; history is read only to compute a new record's base.
 * A batch loads the state of its entities, works in memory, and writes back
 * with multi-row statements.
 */
export const makeHeads = (db: Database, knowledge: Knowledge) => {
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

  const loadEvents = (seqs: ReadonlyArray<number>): Map<number, LearntEvent> => {
    const out = new Map<number, LearntEvent>()
    for (const chunk of chunked(seqs, 500)) {
      const rows = db.query(`SELECT ${eventRowColumns} FROM events WHERE seq IN (${placeholders(chunk.length)})`).all(...chunk) as Array<EventRow>
      for (const r of rows) out.set(r.seq, fromRow(r))
    }
    return out
  }

  const writeCache = new Map<number, ReadonlyArray<Write>>()
  const writes = (e: LearntEvent) => {
    let w = writeCache.get(e.seq)
    if (w === undefined) {
      w = writesOf(e)
      if (writeCache.size > 50_000) writeCache.clear()
      writeCache.set(e.seq, w)
    }
    return w
  }
  const valueOf = (e: LearntEvent, field: string) => writes(e).find((w) => w.field === field)?.value ?? "true"

  /** The readable histories of these entities, newest first (unreadable events are never a base). */
  const histories = (entityIds: ReadonlyArray<string>): Map<string, Array<LearntEvent>> => {
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
  }

  /** The value of the greatest-clock write to `field` in both sides' causal past (docs/sync.md "base"). */
  const baseOf = (history: ReadonlyArray<LearntEvent>, field: string, ours: LearntEvent, theirs: LearntEvent) => {
    for (const w of history) {
      if (!writes(w).some((x) => x.field === field)) continue
      if (inPast(w, ours) && inPast(w, theirs)) return { value: valueOf(w, field), seq: w.seq }
    }
    return { value: null, seq: null }
  }

  /**
   * Learns `events` (in seq order) into stream `streamId`'s heads. Incoming
   * events (a pull) may create, update and settle conflict records of
   * `worktree`'s scope; the stream's own new writes know everything it knows,
   * so they only replace heads and settle.
   */
  const learn = (
    scope: { readonly worktree: string; readonly streamId: number },
    events: ReadonlyArray<LearntEvent>,
    mode: "incoming" | "own"
  ): LearnReport => {
    const A = scope.streamId
    // A creation is in every later write's past, so it only matters where the stream already has a
    // cascaded delete of that entity, which does not know it (causality.ts): then it is learnt like a write.
    const creations_ = mode === "incoming" ? events.filter((e) => isCreation(e.op) && e.entityKind !== "epic") : []
    const touched = new Set<string>()
    for (const chunk of chunked([...new Set(creations_.map((e) => e.entityId))], 500)) {
      for (const r of db.query(`SELECT DISTINCT entity_id AS e FROM heads WHERE stream_id = ? AND entity_id IN (${placeholders(chunk.length)})`).all(A, ...chunk) as Array<{ e: string }>) {
        touched.add(r.e)
      }
    }
    const writers = events.filter((e) => !isCreation(e.op) || touched.has(e.entityId))
    if (writers.length === 0) return { created: [], settled: [] }
    const entities = [...new Set(writers.map((e) => e.entityId))]

    // Load the entities' heads, floors and pending records.
    const heads = new Map<string, Map<string, Array<LearntEvent>>>()
    const headSeqs: Array<{ e: string; f: string; seq: number }> = []
    const floors = new Map<string, Floor>()
    const pending = new Map<string, Map<string, Record>>()
    // Most streams have no --if-version floors and no pending records: one probe each spares a query per chunk.
    const anyFloors = db.query("SELECT 1 FROM if_version_floors WHERE stream_id = ? LIMIT 1").get(A) !== null
    const anyPending = db.query("SELECT 1 FROM conflicts WHERE stream_id = ? AND status = 'pending' LIMIT 1").get(A) !== null
    for (const chunk of chunked(entities, 500)) {
      const ph = placeholders(chunk.length)
      for (const r of db.query(`SELECT entity_id AS e, field AS f, event_seq AS seq FROM heads WHERE stream_id = ? AND entity_id IN (${ph})`).all(A, ...chunk) as Array<{ e: string; f: string; seq: number }>) {
        headSeqs.push(r)
      }
      const floorRows = anyFloors
        ? db.query(`SELECT entity_id AS e, field AS f, seq, frontier_id FROM if_version_floors WHERE stream_id = ? AND entity_id IN (${ph})`)
          .all(A, ...chunk) as Array<{ e: string; f: string; seq: number; frontier_id: number | null }>
        : []
      for (const r of floorRows) {
        floors.set(key2(r.e, r.f), { seq: r.seq, seen: knowledge.byId(r.frontier_id) })
      }
      const pendingRows = anyPending
        ? db.query(`SELECT * FROM conflicts WHERE stream_id = ? AND status = 'pending' AND entity_id IN (${ph})`).all(A, ...chunk) as Array<any>
        : []
      for (const r of pendingRows) {
        const rec: Record = {
          id: r.id,
          worktree: r.worktree,
          entityKind: r.entity_kind,
          entityId: r.entity_id,
          field: r.field,
          base: r.base,
          baseSeq: r.base_seq,
          ours: r.ours,
          oursSeq: r.ours_seq,
          theirs: r.theirs,
          theirsSeq: r.theirs_seq,
          status: "pending",
          settledSeq: null,
          createdAt: r.created_at,
          settledAt: null,
          sides: undefined
        }
        const m = pending.get(r.entity_id) ?? new Map<string, Record>()
        m.set(r.field, rec)
        pending.set(r.entity_id, m)
      }
    }
    const known = loadEvents([...new Set(headSeqs.map((h) => h.seq))])
    for (const h of headSeqs) {
      const fields = heads.get(h.e) ?? new Map<string, Array<LearntEvent>>()
      fields.set(h.f, [...(fields.get(h.f) ?? []), known.get(h.seq)!])
      heads.set(h.e, fields)
    }

    // A cascaded delete does not know the creation it removes (causality.ts): where the stream knows that
    // creation and nothing newer was written, the creation stands as a maximal write beside the delete.
    const cascaded = mode === "incoming" ? [...new Set(writers.filter(isCascadeDelete).map((e) => e.entityId))] : []
    const creations = new Map<string, LearntEvent>()
    for (const chunk of chunked(cascaded, 500)) {
      const rows = db.query(
        `SELECT ${eventRowColumns} FROM events WHERE entity_id IN (${placeholders(chunk.length)}) AND op IN ('epic.created', 'task.created', 'subtask.created')`
      ).all(...chunk) as Array<EventRow>
      for (const r of rows) creations.set(r.entity_id, fromRow(r))
    }
    const frontier = cascaded.length > 0 ? knowledge.current(A) : {}
    const learntNow = new Set(events.map((e) => e.seq))
    const knows = (e: LearntEvent) => e.streamId === A || (frontier[e.streamId] ?? 0) >= e.seq || learntNow.has(e.seq)

    const dirtyHeads = new Set<string>()
    const dirtyFloors = new Set<string>()
    const created: Array<Record> = []
    const touchedRecords = new Set<Record>()
    const now = Date.now()

    const distinctValues = (hs: ReadonlyArray<LearntEvent>, field: string) => new Set(hs.map((h) => valueOf(h, field))).size

    const evaluate = (y: LearntEvent) => {
      const fields = heads.get(y.entityId)!
      // Every key in conflict has a pending record (one is made when the conflict appears), so an
      // entity without records can only have come into conflict on a field y just wrote.
      if ((pending.get(y.entityId)?.size ?? 0) === 0 &&
        writes(y).every(({ field }) => (fields.get(field)?.length ?? 0) < 2 || distinctValues(fields.get(field)!, field) < 2)) {
        return
      }
      const keys = new Map<string, Array<string>>()
      for (const f of [...fields.keys()].sort()) {
        const hs = fields.get(f)!
        if (hs.length < 2) continue
        const values = new Set(hs.map((h) => valueOf(h, f)))
        if (values.size < 2) continue
        const key = values.has(deleted) ? "existence" : f
        keys.set(key, [...(keys.get(key) ?? []), f])
      }
      const records = pending.get(y.entityId) ?? new Map<string, Record>()
      pending.set(y.entityId, records)
      for (const [key, fs] of keys) {
        const fY = fs.find((f) => fields.get(f)!.some((h) => h.seq === y.seq))
        const record = records.get(key)
        if (fY === undefined || mode === "own") continue
        const sideValue = (e: LearntEvent) => (key === "existence" ? valueOf(e, "existence") : valueOf(e, fY))
        const baseField = key === "existence" ? "existence" : fY
        if (record === undefined) {
          // The newest by clock; two clones' clocks can meet, so ties go to the greater id.
          const ours = fields.get(fY)!.filter((h) => h.seq !== y.seq).reduce((a, b) => (b.clock > a.clock || (b.clock === a.clock && b.id > a.id) ? b : a))
          const fresh: Record = {
            id: undefined,
            worktree: scope.worktree,
            entityKind: y.entityKind,
            entityId: y.entityId,
            field: key,
            base: null,
            baseSeq: null,
            ours: sideValue(ours),
            oursSeq: ours.seq,
            theirs: sideValue(y),
            theirsSeq: y.seq,
            status: "pending",
            settledSeq: null,
            createdAt: now,
            settledAt: null,
            sides: { ours, theirs: y, baseField }
          }
          records.set(key, fresh)
          created.push(fresh)
          touchedRecords.add(fresh)
        } else {
          const ours = known.get(record.oursSeq) ?? loadEvents([record.oursSeq]).get(record.oursSeq)!
          record.theirs = sideValue(y)
          record.theirsSeq = y.seq
          record.sides = { ours, theirs: y, baseField }
          touchedRecords.add(record)
        }
      }
      for (const [key, record] of records) {
        if (keys.has(key)) continue
        record.status = "settled"
        record.settledSeq = y.seq
        record.settledAt = now
        touchedRecords.add(record)
        records.delete(key)
      }
    }

    for (const y of writers) {
      known.set(y.seq, y)
      const fields = heads.get(y.entityId) ?? new Map<string, Array<LearntEvent>>()
      heads.set(y.entityId, fields)
      for (const { field } of writes(y)) {
        const k = key2(y.entityId, field)
        const creation = creations.get(y.entityId)
        const current = fields.get(field) ??
          (creation !== undefined && isCascadeDelete(y) && knows(creation) && !inPast(creation, y) ? [creation] : [])
        // With no write to the field yet, the creation stays the implicit head.
        if (isCreation(y.op) && current.length === 0) continue
        let next: Array<LearntEvent>
        if (mode === "own") next = [y]
        else if (current.some((h) => h.seq === y.seq)) continue // learnt already (a replayed pull)
        else {
          const floor = floors.get(k)
          const dominated = (floor !== undefined && underFloor(y, floor)) || current.some((h) => inPast(y, h))
          next = current.filter((h) => !inPast(h, y))
          if (!dominated) next.push(y)
        }
        if (y.ifVersion) {
          floors.set(k, raiseFloor(floors.get(k), y))
          dirtyFloors.add(k)
        }
        fields.set(field, next)
        dirtyHeads.add(k)
      }
      evaluate(y)
    }

    // Write back only what changed: heads that left a field and heads that joined it.
    const before = new Map<string, Set<number>>()
    for (const h of headSeqs) {
      const k = key2(h.e, h.f)
      before.set(k, (before.get(k) ?? new Set<number>()).add(h.seq))
    }
    const removeHead = db.query("DELETE FROM heads WHERE stream_id = ? AND entity_id = ? AND field = ? AND event_seq = ?")
    const added: Array<[number, string, string, number]> = []
    for (const k of dirtyHeads) {
      const [e, f] = k.split("\u0000") as [string, string]
      const now = heads.get(e)!.get(f)!
      const was = before.get(k) ?? new Set<number>()
      for (const seq of was) if (!now.some((h) => h.seq === seq)) removeHead.run(A, e, f, seq)
      for (const h of now) if (!was.has(h.seq)) added.push([A, e, f, h.seq])
    }
    for (const chunk of chunked(added, 200)) {
      db.query(`INSERT INTO heads (stream_id, entity_id, field, event_seq) VALUES ${chunk.map(() => "(?, ?, ?, ?)").join(", ")}`)
        .run(...(chunk.flat() as Array<never>))
    }
    for (const k of dirtyFloors) {
      const [e, f] = k.split("\u0000") as [string, string]
      const floor = floors.get(k)!
      const seen = Object.keys(floor.seen).length === 0 ? null : knowledge.store(floor.seen)
      db.query(
        `INSERT INTO if_version_floors (stream_id, entity_id, field, seq, frontier_id) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET seq = excluded.seq, frontier_id = excluded.frontier_id`
      ).run(A, e, f, floor.seq, seen)
    }
    const settled: Array<number> = []
    const fresh: Array<Record> = []
    const updateRecord = db.query(
      "UPDATE conflicts SET base = ?, base_seq = ?, theirs = ?, theirs_seq = ?, status = ?, settled_seq = ?, settled_at = ? WHERE id = ?"
    )
    const needBase = [...touchedRecords].filter((r) => r.sides !== undefined)
    const history = histories([...new Set(needBase.map((r) => r.entityId))])
    for (const r of touchedRecords) {
      if (r.sides !== undefined) {
        const base = baseOf(history.get(r.entityId) ?? [], r.sides.baseField, r.sides.ours, r.sides.theirs)
        r.base = base.value
        r.baseSeq = base.seq
      }
      if (r.id === undefined) fresh.push(r)
      else updateRecord.run(r.base, r.baseSeq, r.theirs, r.theirsSeq, r.status, r.settledSeq, r.settledAt, r.id)
    }
    // New records get ids in creation order, written with multi-row inserts.
    let next = (db.query("SELECT coalesce(max(id), 0) AS id FROM conflicts").get() as { id: number }).id
    for (const r of fresh) r.id = ++next
    for (const chunk of chunked(fresh, 60)) {
      db.query(
        `INSERT INTO conflicts (id, worktree, stream_id, entity_kind, entity_id, field, base, base_seq, ours, ours_seq, theirs, theirs_seq,
           status, settled_seq, created_at, settled_at) VALUES ${chunk.map(() => "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}`
      ).run(...(chunk.flatMap((r) => [
        r.id,
        r.worktree,
        A,
        r.entityKind,
        r.entityId,
        r.field,
        r.base,
        r.baseSeq,
        r.ours,
        r.oursSeq,
        r.theirs,
        r.theirsSeq,
        r.status,
        r.settledSeq,
        r.createdAt,
        r.settledAt
      ]) as Array<never>))
    }
    for (const r of touchedRecords) if (r.status === "settled") settled.push(r.id!)
    return { created: created.map((r) => r.id!), settled }
  }

  return { learn, loadEvents, fromRow }
}

export type Heads = ReturnType<typeof makeHeads>
