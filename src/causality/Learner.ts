import { isCreation } from "../events/writes.ts"
import type { ConflictStore } from "./ConflictStore.ts"
import {
  type BatchState,
  cascadedEntities,
  creationsToCheck,
  entitiesNeedingBase,
  fillBases,
  knowsAfter,
  lastWriters,
  type LearnMode,
  learnWrites,
  type LearntEvent,
  makeFieldWrites,
  splitOwn,
  type WorkingConflict,
  writersAmong
} from "./Heads.ts"
import type { HeadsStore } from "./HeadsStore.ts"
import type { Knowledge } from "./Knowledge.ts"
import type { LearntEvents } from "./LearntEvents.ts"

const noEntities: ReadonlySet<string> = new Set()

export interface LearnReport {
  readonly created: ReadonlyArray<number>
  readonly settled: ReadonlyArray<number>
}

/**
 * Learning a batch of events into a stream's heads: the stores load the
 * state of the batch's entities, Heads.ts evaluates in memory, and what
 * changed is written back with multi-row statements. Learning an event
 * touches only the fields it writes and the entity's pending records; history
 * is read only to compute a changed record's base.
 */
export const makeLearner = (knowledge: Knowledge, events: LearntEvents, headsStore: HeadsStore, conflicts: ConflictStore) => {
  const writes = makeFieldWrites()

  /** The pending records as a batch works on them. */
  const pendingOf = (streamId: number, entities: ReadonlyArray<string>) => {
    const pending = new Map<string, Map<string, WorkingConflict>>()
    if (!conflicts.anyPending(streamId)) return pending
    for (const r of conflicts.pendingOf(streamId, entities)) {
      const records = pending.get(r.entityId) ?? new Map<string, WorkingConflict>()
      records.set(r.field, { ...r, status: "pending", settledSeq: null, settledAt: null, pair: undefined })
      pending.set(r.entityId, records)
    }
    return pending
  }

  /**
   * The general path: loads the batch's entities' heads with their events, floors and pending records (unless
   * `pending` holds them already), and runs learnWrites.
   */
  const learnInFull = (
    scope: { readonly worktree: string; readonly streamId: number },
    batch: ReadonlyArray<LearntEvent>,
    mode: LearnMode,
    now: number,
    pending?: Map<string, Map<string, WorkingConflict>>
  ): LearnReport => {
    const A = scope.streamId
    // One read of the heads serves both questions: which creations must be learnt (creationsToCheck), and the
    // heads of every entity the batch writes (a creation to check with no heads loads no row).
    // A stream that does not know an entity's creation holds heads of it only beside a cascaded delete it knows, which
    // the log then holds; an incoming creation is one the stream does not know. So only creations of entities a
    // cascade wrote to are probed (docs/decisions.md, "A pull skips heads it cannot have").
    const creations = creationsToCheck(batch, mode)
    const checked = creations.size === 0 ? creations : events.cascadedAmong([...creations])
    const read = [...checked]
    const others = new Set<string>()
    for (const e of batch) {
      if (isCreation(e.op) || checked.has(e.entityId) || others.has(e.entityId)) continue
      others.add(e.entityId)
      read.push(e.entityId)
    }
    const before = headsStore.headsOf(A, read)
    const withHeads = new Set<string>()
    if (checked.size > 0) for (const h of before) if (checked.has(h.entity_id)) withHeads.add(h.entity_id)
    const writers = writersAmong(batch, withHeads)
    if (writers.length === 0) return { created: [], settled: [] }
    const entities = [...new Set(writers.map((e) => e.entityId))]
    // A head's event is built once, however many fields it heads.
    const known = new Map<number, LearntEvent>()
    const heads = new Map<string, Map<string, Array<LearntEvent>>>()
    for (const h of before) {
      let event = known.get(h.seq)
      if (event === undefined) known.set(h.seq, event = events.fromRow(h))
      let fields = heads.get(h.entity_id)
      if (fields === undefined) heads.set(h.entity_id, fields = new Map())
      const hs = fields.get(h.field)
      if (hs === undefined) fields.set(h.field, [event])
      else hs.push(event)
    }
    const state: BatchState = {
      heads,
      floors: headsStore.floorsOf(A, entities),
      pending: pending ?? pendingOf(A, entities),
      creations: events.creations(cascadedEntities(writers, mode)),
      known
    }
    const frontier = state.creations.size > 0 ? knowledge.current(A) : {}
    const outcome = learnWrites(state, writers, {
      worktree: scope.worktree,
      mode,
      knows: knowsAfter(A, frontier, batch),
      eventBySeq: (seq) => events.bySeqs([seq]).get(seq)!,
      writes,
      now
    })

    headsStore.writeHeads(A, state.heads, outcome.dirtyHeads)
    headsStore.writeFloors(A, state.floors, outcome.dirtyFloors)
    const needingBase = entitiesNeedingBase(outcome.touched)
    if (needingBase.length > 0) {
      // The batch's events were read through their Schema already: a history that holds them (the side learnt) reuses them.
      const batchBySeq = new Map(batch.map((e) => [e.seq, e]))
      fillBases(outcome.touched, events.histories(needingBase, batchBySeq), writes)
    }
    const fresh: Array<WorkingConflict> = []
    for (const r of outcome.touched) {
      if (r.id === undefined) fresh.push(r)
      else conflicts.update({ ...r, id: r.id })
    }
    // New records get ids in creation order, written with multi-row inserts.
    const ids = conflicts.insert(fresh.map((r) => ({ ...r, streamId: A })))
    fresh.forEach((r, i) => (r.id = ids[i]))
    return {
      created: outcome.created.map((r) => r.id!),
      settled: [...outcome.touched].filter((r) => r.status === "settled").map((r) => r.id!)
    }
  }

  /**
   * Learns `events` (in seq order) into stream `streamId`'s heads, at time
   * `now` (the wall time of the transaction that records it). Incoming
   * events (a pull) may create, update and settle conflict records of
   * `worktree`'s scope; the stream's own new writes know everything it knows,
   * so they only replace heads and settle. Own writes to entities with no
   * pending record and no --if-version write only replace the heads of the
   * fields they write (`splitOwn`): written without reading the heads before.
   */
  const learn = (
    scope: { readonly worktree: string; readonly streamId: number },
    batch: ReadonlyArray<LearntEvent>,
    mode: LearnMode,
    now: number
  ): LearnReport => {
    if (mode === "incoming") return learnInFull(scope, batch, mode, now)
    const A = scope.streamId
    // An own creation is of an entity the stream holds no heads of: it stays the implicit head (as in learnInFull).
    const writers = writersAmong(batch, noEntities)
    // Read once: the split needs the entities with records, and the full path takes them as they are.
    const pending = pendingOf(A, [...new Set(writers.map((e) => e.entityId))])
    const { plain, general } = splitOwn(writers, new Set(pending.keys()))
    if (plain.length > 0) headsStore.replaceHeads(A, lastWriters(plain, writes))
    return general.length === 0 ? { created: [], settled: [] } : learnInFull(scope, general, mode, now, pending)
  }

  return {
    learn,
    /** `learn` with every entity loaded and learnt in full: what the own shortcut must agree with (test/learner.own.test.ts). */
    learnInFull
  }
}

export type Learner = ReturnType<typeof makeLearner>
