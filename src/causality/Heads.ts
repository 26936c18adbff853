import type { Types } from "effect"
import { writesOf } from "../events/operations.ts"
import { deleted, isCreation, type Write } from "../events/writes.ts"
import { type CausalEvent, type Frontier, inPast, isCascadeDelete } from "./causality.ts"
import type { ConflictRecord, ConflictSide } from "./ConflictStore.ts"

/**
 * Conflict detection by causally maximal writes ("heads"), as pure functions:
 * for each stream and field it has seen written, the writes no other known
 * write has in its causal past (causality.ts), and what learning new events
 * does to the stream's conflict records. No database here: HeadsStore.ts loads
 * a batch's state and writes back what changed, Learner.ts runs the two.
 */

/** An event as conflict detection sees it. */
export interface LearntEvent extends CausalEvent {
  readonly id: string
  readonly entityKind: string
  readonly payload: unknown
  readonly clock: number
}

/** Learning incoming events (a pull) or the stream's own new writes. */
export type LearnMode = "incoming" | "own"

/** The two events a record's base is computed for, and the field it is read from. */
export interface ConflictPair {
  readonly ours: LearntEvent
  readonly theirs: LearntEvent
  readonly baseField: string
}

/**
 * A conflict record (a `conflicts` row, ConflictStore.ts) while a batch works
 * on it: a stored one, or one this batch created (no id until it is stored).
 * Its stream is the batch's.
 */
export type WorkingConflict = Types.Mutable<Omit<ConflictRecord, "id" | "streamId">> & {
  id: number | undefined
  /** Set when ours or theirs changed in this batch: the base must be computed again. */
  pair: ConflictPair | undefined
}

/**
 * What the --if-version writes a stream knows to a field have in their past by rule (d): every write
 * below seq (those written here), and per stream up to seen (those imported: what their writer held).
 */
export interface Floor {
  readonly seq: number
  readonly seen: Frontier
}

export const underFloor = (y: LearntEvent, floor: Floor) => y.seq < floor.seq || y.seq <= (floor.seen[y.streamId] ?? 0)

export const raiseFloor = (floor: Floor = { seq: 0, seen: {} }, y: LearntEvent): Floor => {
  if (y.seen === null) return { seq: Math.max(floor.seq, y.seq), seen: floor.seen }
  const seen: { [stream: number]: number } = { ...floor.seen }
  for (const [s, seq] of Object.entries(y.seen)) seen[Number(s)] = Math.max(seen[Number(s)] ?? 0, seq)
  return { seq: floor.seq, seen }
}

/** The key of one entity's field in the maps below. */
export const fieldKey = (entity: string, field: string) => `${entity}\u0000${field}`
export const splitFieldKey = (key: string) => key.split("\u0000") as [string, string]

/** Where FieldWrites keeps an event's writes: on the event object itself. */
const writesSlot = Symbol("writes")

/**
 * The fields an event writes and their values, computed once per event
 * object: a batch asks for the same event's writes several times (learning,
 * evaluating, sides, bases). Kept on the object, not in a map by seq: a seq
 * names one event only once it is committed (a rolled-back append gives its
 * seq to the next), an object always the same one, and a property read costs
 * far less than a lookup in a map of every event a pull reads.
 */
export const makeFieldWrites = () => {
  const of = (e: LearntEvent): ReadonlyArray<Write> => {
    const holder = e as LearntEvent & { [writesSlot]?: ReadonlyArray<Write> }
    return holder[writesSlot] ??= writesOf(e)
  }
  /** The value `e` writes to `field`; a creation's implicit `existence` is "true". */
  const valueOf = (e: LearntEvent, field: string) => of(e).find((w) => w.field === field)?.value ?? "true"
  return { of, valueOf }
}
export type FieldWrites = ReturnType<typeof makeFieldWrites>

/**
 * The entities whose incoming creations must be learnt like writes, if the stream already has heads
 * for them (`HeadsStore.withHeads`). A creation is in every later write's past (rule (c)), so it only
 * matters where the stream holds a cascaded delete of that entity, which does not know it.
 */
export const creationsToCheck = (events: ReadonlyArray<LearntEvent>, mode: LearnMode): Set<string> => {
  const entities = new Set<string>()
  if (mode === "incoming") for (const e of events) if (isCreation(e.op) && e.entityKind !== "epic") entities.add(e.entityId)
  return entities
}

/** The events that write heads: every one but creations of entities the stream has no heads for. */
export const writersAmong = (events: ReadonlyArray<LearntEvent>, entitiesWithHeads: ReadonlySet<string>) =>
  events.filter((e) => !isCreation(e.op) || entitiesWithHeads.has(e.entityId))

/**
 * A stream's own writers split by what learning them needs. Own learning makes a written field's heads its
 * writer alone (maximalWrites), raises a floor only for an --if-version write, and only settles pending
 * records (evaluate): an entity with neither an --if-version write in the batch nor a pending record
 * (`withPending`) changes nothing but the heads of the fields written, and their heads before are not needed
 * (`plain`). The others learn in full (`general`). Entities are learnt independently, so each keeps its events.
 */
export const splitOwn = (writers: ReadonlyArray<LearntEvent>, withPending: ReadonlySet<string>) => {
  const general = new Set(withPending)
  for (const e of writers) if (e.ifVersion) general.add(e.entityId)
  const plain: Array<LearntEvent> = []
  const rest: Array<LearntEvent> = []
  for (const e of writers) (general.has(e.entityId) ? rest : plain).push(e)
  return { plain, general: rest }
}

/** The heads plain own writers leave (splitOwn): entity -> field -> its last writer's seq. */
export const lastWriters = (writers: ReadonlyArray<LearntEvent>, writes: FieldWrites) => {
  const heads = new Map<string, Map<string, number>>()
  for (const y of writers) {
    let fields = heads.get(y.entityId)
    if (fields === undefined) heads.set(y.entityId, fields = new Map())
    for (const { field } of writes.of(y)) fields.set(field, y.seq)
  }
  return heads
}

/** The entities incoming cascaded deletes remove: their creations are loaded, as they may stand beside the delete. */
export const cascadedEntities = (writers: ReadonlyArray<LearntEvent>, mode: LearnMode): Array<string> =>
  mode === "incoming" ? [...new Set(writers.filter(isCascadeDelete).map((e) => e.entityId))] : []

/** Does stream `streamId`, with frontier `frontier`, know `e` once it has learnt `batch`? */
export const knowsAfter = (streamId: number, frontier: Frontier, batch: ReadonlyArray<LearntEvent>) => {
  // Asked only about the creations cascaded deletes remove, so most batches never build the set.
  let learntNow: Set<number> | undefined
  return (e: LearntEvent) =>
    e.streamId === streamId || (frontier[e.streamId] ?? 0) >= e.seq || (learntNow ??= new Set(batch.map((b) => b.seq))).has(e.seq)
}

/**
 * A stream's state for the entities a batch writes: what HeadsStore loads
 * and learnWrites changes in place.
 */
export interface BatchState {
  /** entity -> field -> the field's maximal known writes. */
  readonly heads: Map<string, Map<string, Array<LearntEvent>>>
  /** fieldKey -> the field's --if-version floor. */
  readonly floors: Map<string, Floor>
  /** entity -> key -> its pending conflict record. */
  readonly pending: Map<string, Map<string, WorkingConflict>>
  /** entity -> its creation, for the entities incoming cascaded deletes remove (cascadedEntities). */
  readonly creations: ReadonlyMap<string, LearntEvent>
  /** The events `heads` holds, by seq, when the loader has them at hand (else built from `heads`); learning adds to it. */
  readonly known?: Map<number, LearntEvent>
}

export interface LearnContext {
  /** The worktree new conflict records are scoped to. */
  readonly worktree: string
  readonly mode: LearnMode
  /** Whether the stream knows an event (knowsAfter). */
  readonly knows: (e: LearntEvent) => boolean
  /** An event the state does not hold: the ours side of a stored pending record. */
  readonly eventBySeq: (seq: number) => LearntEvent
  readonly writes: FieldWrites
  /** The time records are created or settled at (ms). */
  readonly now: number
}

export interface LearnOutcome {
  /**
   * entity -> field -> the heads the field had before the batch (undefined: none), for every field whose heads
   * changed: what HeadsStore.writeHeads compares with the heads now. Nested, so no key is built per write.
   */
  readonly dirtyHeads: ReadonlyMap<string, ReadonlyMap<string, ReadonlyArray<LearntEvent> | undefined>>
  /** fieldKeys whose floor was raised. */
  readonly dirtyFloors: ReadonlySet<string>
  /** Records this batch created, in creation order. */
  readonly created: ReadonlyArray<WorkingConflict>
  /** Every record this batch created, updated or settled, in the order it first touched them. */
  readonly touched: ReadonlySet<WorkingConflict>
}

/**
 * The maximal writes of a field once `y` is learnt: the current heads `y`
 * does not have in its past, plus `y` unless a head or the field's
 * --if-version floor has `y` in its past. undefined when `y` was learnt
 * already (a replayed pull). A stream's own write knows everything the
 * stream knows, so it replaces the heads.
 */
export const maximalWrites = (
  current: ReadonlyArray<LearntEvent>,
  y: LearntEvent,
  floor: Floor | undefined,
  mode: LearnMode
): Array<LearntEvent> | undefined => {
  if (mode === "own") return [y]
  if (current.some((h) => h.seq === y.seq)) return undefined
  const dominated = (floor !== undefined && underFloor(y, floor)) || current.some((h) => inPast(y, h))
  const next = current.filter((h) => !inPast(h, y))
  if (!dominated) next.push(y)
  return next
}

/**
 * The keys in conflict on an entity: fields with two or more maximal writes
 * of different values, grouped under `existence` when one of them deletes.
 */
export const conflictKeys = (fields: ReadonlyMap<string, ReadonlyArray<LearntEvent>>, writes: FieldWrites) => {
  const keys = new Map<string, Array<string>>()
  for (const f of [...fields.keys()].sort()) {
    const hs = fields.get(f)!
    if (hs.length < 2) continue
    const values = new Set(hs.map((h) => writes.valueOf(h, f)))
    if (values.size < 2) continue
    const key = values.has(deleted) ? "existence" : f
    keys.set(key, [...(keys.get(key) ?? []), f])
  }
  return keys
}

/**
 * Every distinct value among a field's maximal writes, with the writes that carry it (seq order): ours first,
 * theirs second, then the others by value.
 */
const sidesOf = (
  maximal: ReadonlyArray<LearntEvent>,
  valueOf: (e: LearntEvent) => string,
  record: { readonly ours: string; readonly theirs: string }
): Array<ConflictSide> => {
  const byValue = new Map<string, Array<number>>()
  for (const h of maximal) byValue.set(valueOf(h), [...(byValue.get(valueOf(h)) ?? []), h.seq])
  const rank = (v: string) => (v === record.ours ? 0 : v === record.theirs ? 1 : 2)
  return [...byValue.entries()]
    .sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
    .map(([value, events]) => ({ value, events: events.sort((x, y) => x - y) }))
}

/** The newest by clock; two clones' clocks can meet, so ties go to the greater id. */
const newest = (events: ReadonlyArray<LearntEvent>) => events.reduce((a, b) => (b.clock > a.clock || (b.clock === a.clock && b.id > a.id) ? b : a))

/**
 * Learns `events` (writers, in seq order) into a stream's state: replaces the
 * heads of the fields each writes and raises --if-version floors; incoming
 * events may create, update and settle the stream's conflict records, its own
 * writes only settle. Changes `state` in place and says what changed; bases
 * are left to `fillBases`, which needs the entities' histories.
 */
export const learnWrites = (state: BatchState, events: ReadonlyArray<LearntEvent>, context: LearnContext): LearnOutcome => {
  const { heads, floors, pending, creations } = state
  const { mode, writes } = context
  const known = state.known ?? new Map<number, LearntEvent>()
  if (state.known === undefined) for (const fields of heads.values()) for (const hs of fields.values()) for (const h of hs) known.set(h.seq, h)
  const dirtyHeads = new Map<string, Map<string, ReadonlyArray<LearntEvent> | undefined>>()
  const dirtyFloors = new Set<string>()
  const created: Array<WorkingConflict> = []
  const touched = new Set<WorkingConflict>()

  const distinctValues = (hs: ReadonlyArray<LearntEvent>, field: string) => new Set(hs.map((h) => writes.valueOf(h, field))).size

  const evaluate = (y: LearntEvent) => {
    const fields = heads.get(y.entityId)!
    // Every key in conflict has a pending record (one is made when the conflict appears), so an
    // entity without records can only have come into conflict on a field y just wrote.
    if ((pending.get(y.entityId)?.size ?? 0) === 0 &&
      writes.of(y).every(({ field }) => (fields.get(field)?.length ?? 0) < 2 || distinctValues(fields.get(field)!, field) < 2)) {
      return
    }
    const keys = conflictKeys(fields, writes)
    const records = pending.get(y.entityId) ?? new Map<string, WorkingConflict>()
    pending.set(y.entityId, records)
    for (const [key, fs] of keys) {
      const fY = fs.find((f) => fields.get(f)!.some((h) => h.seq === y.seq))
      const record = records.get(key)
      if (fY === undefined || mode === "own") continue
      const sideValue = (e: LearntEvent) => writes.valueOf(e, key === "existence" ? "existence" : fY)
      const baseField = key === "existence" ? "existence" : fY
      const maximal = fields.get(fY)!
      const yValue = sideValue(y)
      /** The newest maximal write whose value is not `value`. */
      const newestOther = (value: string) => newest(maximal.filter((h) => sideValue(h) !== value))
      if (record === undefined) {
        const ours = newestOther(yValue)
        const fresh: WorkingConflict = {
          id: undefined,
          worktree: context.worktree,
          entityKind: y.entityKind,
          entityId: y.entityId,
          field: key,
          base: null,
          baseSeq: null,
          ours: sideValue(ours),
          oursSeq: ours.seq,
          theirs: yValue,
          theirsSeq: y.seq,
          sides: [],
          status: "pending",
          settledSeq: null,
          createdAt: context.now,
          settledAt: null,
          pair: { ours, theirs: y, baseField }
        }
        fresh.sides = sidesOf(maximal, sideValue, fresh)
        records.set(key, fresh)
        created.push(fresh)
        touched.add(fresh)
      } else {
        // A record's ours and theirs are always two of the values now maximal, never equal (docs/sync.md).
        const values = new Set(maximal.map(sideValue))
        const lookUp = (seq: number) => known.get(seq) ?? context.eventBySeq(seq)
        const newOurs = values.has(record.ours) ? undefined : newestOther(yValue)
        const oursValue = newOurs === undefined ? record.ours : sideValue(newOurs)
        const newTheirs = yValue !== oursValue
          ? y
          : !values.has(record.theirs) || record.theirs === oursValue
          ? newestOther(oursValue)
          : undefined
        if (newOurs !== undefined || newTheirs !== undefined) {
          // Stored sides are read only when the other one changed: the base needs both.
          const ours = newOurs ?? lookUp(record.oursSeq)
          const theirs = newTheirs ?? lookUp(record.theirsSeq)
          record.ours = sideValue(ours)
          record.oursSeq = ours.seq
          record.theirs = sideValue(theirs)
          record.theirsSeq = theirs.seq
          record.pair = { ours, theirs, baseField }
        }
        record.sides = sidesOf(maximal, sideValue, record)
        touched.add(record)
      }
    }
    for (const [key, record] of records) {
      if (keys.has(key)) continue
      record.status = "settled"
      record.settledSeq = y.seq
      record.settledAt = context.now
      touched.add(record)
      records.delete(key)
    }
  }

  for (const y of events) {
    known.set(y.seq, y)
    let fields = heads.get(y.entityId)
    if (fields === undefined) heads.set(y.entityId, fields = new Map())
    const creation = creations.get(y.entityId)
    let dirty = dirtyHeads.get(y.entityId)
    for (const { field } of writes.of(y)) {
      // A cascaded delete does not know the creation it removes (causality.ts): where the stream knows that
      // creation and nothing newer was written, the creation stands as a maximal write beside the delete.
      const current = fields.get(field) ??
        (creation !== undefined && isCascadeDelete(y) && context.knows(creation) && !inPast(creation, y) ? [creation] : [])
      // With no write to the field yet, the creation stays the implicit head.
      if (isCreation(y.op) && current.length === 0) continue
      // Most streams hold no --if-version floor: the field's key is built only where one may apply.
      const k = floors.size > 0 || y.ifVersion ? fieldKey(y.entityId, field) : undefined
      const floor = k === undefined ? undefined : floors.get(k)
      const next = maximalWrites(current, y, floor, mode)
      if (next === undefined) continue
      if (k !== undefined && y.ifVersion) {
        floors.set(k, raiseFloor(floor, y))
        dirtyFloors.add(k)
      }
      if (dirty === undefined) dirtyHeads.set(y.entityId, dirty = new Map())
      // The first change of a field in the batch finds the heads it had before (maximalWrites never changes an array in place).
      if (!dirty.has(field)) dirty.set(field, fields.get(field))
      fields.set(field, next)
    }
    evaluate(y)
  }
  return { dirtyHeads, dirtyFloors, created, touched }
}

/**
 * The value of the greatest-clock write to `field` in both sides' causal past (docs/sync.md "base"),
 * from the entity's readable history, newest first.
 */
export const baseOf = (history: ReadonlyArray<LearntEvent>, pair: ConflictPair, writes: FieldWrites) => {
  for (const w of history) {
    if (!writes.of(w).some((x) => x.field === pair.baseField)) continue
    if (inPast(w, pair.ours) && inPast(w, pair.theirs)) return { value: writes.valueOf(w, pair.baseField), seq: w.seq }
  }
  return { value: null, seq: null }
}

/** The entities whose records need their base computed (a side changed). */
export const entitiesNeedingBase = (touched: Iterable<WorkingConflict>) =>
  [...new Set([...touched].filter((r) => r.pair !== undefined).map((r) => r.entityId))]

/** Sets the base of every record whose sides changed, from its entity's history (newest first). */
export const fillBases = (touched: Iterable<WorkingConflict>, histories: ReadonlyMap<string, ReadonlyArray<LearntEvent>>, writes: FieldWrites) => {
  for (const r of touched) {
    if (r.pair === undefined) continue
    const base = baseOf(histories.get(r.entityId) ?? [], r.pair, writes)
    r.base = base.value
    r.baseSeq = base.seq
  }
}
