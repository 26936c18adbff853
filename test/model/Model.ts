/**
 * The reference model of grove's sync semantics (DESIGN.md section 6, with
 * every detail fixed by docs/sync.md), written naively on purpose: explicit
 * lists of events, knowledge as explicit sets of seqs, causal pasts as
 * explicit sets computed literally by rules (a)-(d), conflicts recomputed from
 * scratch for every learnt event. No SQL, and nothing shared with src/sync:
 * the write table below is written out again from docs/sync.md.
 *
 * The model is told what the real system appended (`write`), and performs
 * pulls itself (`pull`); it then answers with conflict records and the live
 * state the projection should show.
 */
import type { EntityKind } from "../../src/events/Event.ts"

/** The value a delete writes to every field but existence: differs from every JSON text. */
export const BOTTOM = "⊥"

/** The fields of each entity kind (docs/sync.md "Fields and values"), in alphabetical order. */
export const FIELDS: Readonly<Record<EntityKind, ReadonlyArray<string>>> = {
  epic: ["description", "existence", "status", "title"],
  task: ["description", "epic", "existence", "owner", "status", "title"],
  subtask: ["description", "existence", "owner", "status", "task", "title"],
  dependency: ["presence"],
  stream: []
}

/** An event as the real system appended it. */
export interface EventInput {
  readonly seq: number
  readonly id: string
  readonly stream: string
  readonly entityKind: EntityKind
  readonly entityId: string
  readonly op: string
  readonly payload: unknown
  readonly causeId: string | null
  readonly ifVersion: boolean
  /** Defaults to seq: within one database clocks increase with seq. */
  readonly clock?: number
}

/** An event inside the model, with what the model derived for it when it was written. */
export interface ModelEvent extends EventInput {
  /** Where it was written: this stream's replica and branch. */
  readonly replica: string
  readonly branch: string
  readonly clock: number
  /** The frontier its stream had when it was written: for every other stream, the highest seq known. */
  readonly frontier: ReadonlyMap<string, number>
  /** field -> value (JSON text, or BOTTOM). */
  readonly writes: ReadonlyMap<string, string>
  /** The causal past, literally by rules (a)-(d): seqs, never the event's own. */
  readonly past: ReadonlySet<number>
}

export type ConflictStatus = "pending" | "settled"

export interface ConflictRecord {
  /** The model's own numbering, in creation order. */
  readonly id: number
  readonly worktree: string
  readonly stream: string
  readonly entityKind: EntityKind
  readonly entityId: string
  /** The key: a field, `existence` or `presence`. */
  readonly field: string
  ours: string
  oursSeq: number
  theirs: string
  theirsSeq: number
  /** Every distinct value among the maximal writes when the record last changed: ours, theirs, then the rest by value. */
  sides: Array<{ readonly value: string; readonly events: ReadonlyArray<number> }>
  base: string | null
  baseSeq: number | null
  status: ConflictStatus
  settledBySeq: number | null
  readonly createdBySeq: number
}

export interface PullReport {
  readonly learnt: ReadonlyArray<number>
  readonly created: ReadonlyArray<ConflictRecord>
  readonly settled: ReadonlyArray<ConflictRecord>
}

export interface LiveEpic {
  readonly id: string
  readonly title: string
  readonly description: string
  readonly status: string
  readonly version: number | null
}
export interface LiveTask {
  readonly id: string
  readonly epicId: string
  readonly title: string
  readonly description: string
  readonly status: string
  readonly owner: string | null
  readonly version: number | null
}
export interface LiveSubtask {
  readonly id: string
  readonly taskId: string
  readonly title: string
  readonly description: string
  readonly status: string
  readonly owner: string | null
  readonly version: number | null
}
export interface LiveDependency {
  readonly sourceKind: string
  readonly sourceId: string
  readonly targetKind: string
  readonly targetId: string
}
export interface LiveState {
  readonly epics: ReadonlyArray<LiveEpic>
  readonly tasks: ReadonlyArray<LiveTask>
  readonly subtasks: ReadonlyArray<LiveSubtask>
  readonly dependencies: ReadonlyArray<LiveDependency>
}

/** What a `resolve` should append: one `conflict.resolved` per entity, the first one first. */
export interface ExpectedResolution {
  readonly entityKind: EntityKind
  readonly entityId: string
  readonly field: string
  /** The chosen value, parsed from its JSON text. */
  readonly value: unknown
  /** For a restore: every field but existence with its restored value (parsed). */
  readonly restored?: Readonly<Record<string, unknown>>
  /** True for the events caused by the first one (a restored cascade). */
  readonly causedByFirst: boolean
}

const json = (v: unknown) => JSON.stringify(v === undefined ? null : v)

const isDeleteOp = (op: string) => op.endsWith(".deleted")
const isCreateOp = (op: string) => op.endsWith(".created")

/**
 * Which fields an event writes, with what value: docs/sync.md's table, written
 * out from the table, not from src/events/writes.ts.
 */
export const writesOfEvent = (e: Pick<EventInput, "op" | "entityKind" | "payload">): Map<string, string> => {
  const fields = FIELDS[e.entityKind]
  const p = (e.payload ?? {}) as Record<string, unknown>
  const out = new Map<string, string>()
  const deleteAll = () => {
    for (const f of fields) out.set(f, f === "existence" ? "false" : BOTTOM)
  }
  if (isCreateOp(e.op)) {
    out.set("existence", "true")
    for (const f of fields) if (f !== "existence") out.set(f, json(p[f]))
  } else if (isDeleteOp(e.op)) {
    deleteAll()
  } else if (e.op === "dependency.added") {
    out.set("presence", "true")
  } else if (e.op === "dependency.removed") {
    out.set("presence", "false")
  } else if (e.op === "conflict.resolved") {
    const field = p["field"] as string
    if (field === "existence") {
      if (p["value"] === true) {
        out.set("existence", "true")
        const restored = (p["restored"] ?? {}) as Record<string, unknown>
        for (const f of fields) if (f !== "existence") out.set(f, json(restored[f]))
      } else {
        deleteAll()
      }
    } else {
      out.set(field, json(p["value"]))
    }
  } else if (e.op === "stream.learnt") {
    // A knowledge event: it writes no field.
  } else if (e.op.endsWith(".updated") || e.op === "task.claimed") {
    for (const f of fields) if (f !== "existence" && f in p) out.set(f, json(p[f]))
  } else {
    throw new Error(`model: unknown operation ${e.op}`)
  }
  return out
}

/** Newest first: by clock, ties (two clones' clocks can meet) by id. */
const byClockDesc = (a: ModelEvent, b: ModelEvent) => b.clock - a.clock || (b.id > a.id ? 1 : b.id < a.id ? -1 : 0)

/** What an import needs of the event's origin: the event as its writer's model has it, and that model. */
export interface Origin {
  readonly event: ModelEvent
  readonly model: Model
}

export class Model {
  /**
   * This database's replica id: its own streams are named by branch, streams
   * imported from other clones `branch@replica` (as the real system names them).
   */
  replica = "local"
  /** Every event, in seq order. */
  readonly events: Array<ModelEvent> = []
  private readonly bySeq = new Map<number, ModelEvent>()
  /** Per stream: the seqs it knows (its own events and everything it pulled). */
  private readonly knowledge = new Map<string, Set<number>>()
  /** Every conflict record ever created, in creation order. */
  readonly records: Array<ConflictRecord> = []
  private nextRecordId = 1
  /**
   * Where restored values come from: the greatest-clock non-⊥ write in the
   * whole log (docs/sync.md names no narrower set; DESIGN.md says "from the
   * log"), or only in the resolving stream's knowledge.
   */
  restoreFrom: "knowledge" | "log" = "log"
  /**
   * Whose cascade a restore brings back: the delete on the record's deleted
   * side (docs/sync.md "the delete"), or the entity's latest delete in the log.
   */
  cascadeOf: "deleted-side" | "latest-delete" = "latest-delete"
  /** Whether a restore also restores cascaded children that are live again already. */
  restoreLiveChildren = true
  /** Whether restoring a task or subtask whose parent is gone restores the parent (and its parent) too. */
  restoreParents = true

  event(seq: number): ModelEvent {
    const e = this.bySeq.get(seq)
    if (e === undefined) throw new Error(`model: no event ${seq}`)
    return e
  }

  eventById(id: string): ModelEvent | undefined {
    return this.byId.get(id)
  }
  private readonly byId = new Map<string, ModelEvent>()

  /** The stream a (replica, branch) is here. */
  label(replica: string, branch: string): string {
    return replica === this.replica ? branch : `${branch}@${replica}`
  }


  get lastSeq(): number {
    return this.events.length === 0 ? 0 : this.events[this.events.length - 1]!.seq
  }

  knowledgeOf(stream: string): ReadonlySet<number> {
    let k = this.knowledge.get(stream)
    if (k === undefined) {
      k = new Set()
      this.knowledge.set(stream, k)
    }
    return k
  }

  private mutableKnowledge(stream: string): Set<number> {
    return this.knowledgeOf(stream) as Set<number>
  }

  /** The stream's frontier now: for every other stream, the highest seq of it the stream knows. */
  frontierOf(stream: string): Map<string, number> {
    const frontier = new Map<string, number>()
    for (const seq of this.knowledgeOf(stream)) {
      const e = this.event(seq)
      if (e.stream === stream) continue
      frontier.set(e.stream, Math.max(frontier.get(e.stream) ?? 0, seq))
    }
    return frontier
  }

  /**
   * The causal past of a new event y, literally docs/sync.md rules (a)-(d),
   * closed under causal past: what is in the past of an event in y's past is
   * in y's past too.
   */
  private pastOf(y: Omit<ModelEvent, "past">): Set<number> {
    const past = new Set<number>()
    for (const x of this.events) {
      if (x.seq >= y.seq) continue
      const a = x.stream === y.stream
      const b = x.seq <= (y.frontier.get(x.stream) ?? 0)
      // A cascaded delete (caused by a parent's delete) does not know the creation it removes.
      const c = x.entityId === y.entityId && isCreateOp(x.op) && !(y.causeId !== null && y.op.endsWith(".deleted"))
      const d = y.ifVersion && x.entityId === y.entityId
      if (a || b || c || d) {
        past.add(x.seq)
        for (const p of x.past) past.add(p)
      }
    }
    return past
  }

  /** Is x in y's causal past? */
  inPast(x: ModelEvent, y: ModelEvent): boolean {
    return y.past.has(x.seq)
  }

  /**
   * Stream `stream` appended `events` (in one or more transactions) in
   * `worktree`. Before each one, the stream learns, as a pull made in that
   * worktree would, whatever of the event's causal past it did not know (a
   * write knows the past of what it edits): that may create, update and
   * settle records. Then the event becomes part of its knowledge, and as an
   * own write it settles what it clears.
   */
  write(stream: string, events: ReadonlyArray<EventInput>, worktree: string): ReadonlyArray<ConflictRecord> {
    const changed: Array<ConflictRecord> = []
    for (const input of events) {
      if (input.stream !== stream) throw new Error(`model: event ${input.seq} is on ${input.stream}, not ${stream}`)
      if (input.seq <= this.lastSeq) throw new Error(`model: event ${input.seq} is not after ${this.lastSeq}`)
      const draft = { ...input, replica: this.replica, branch: stream, clock: input.clock ?? input.seq, writes: writesOfEvent(input) }
      const needed = this.pastOf({ ...draft, frontier: this.frontierOf(stream) })
      const mine = this.mutableKnowledge(stream)
      for (const seq of [...needed].filter((s) => !mine.has(s)).sort((x, y) => x - y)) {
        mine.add(seq)
        changed.push(...this.learn(stream, worktree, this.event(seq)))
      }
      const partial = { ...draft, frontier: this.frontierOf(stream) }
      const e: ModelEvent = { ...partial, past: this.pastOf(partial) }
      this.add(e)
      mine.add(e.seq)
      changed.push(...this.learn(stream, null, e))
    }
    return changed
  }

  /**
   * Does `stream`'s scope agree that the field has this value (JSON text): does every maximal write to it
   * that the stream knows carry it? Only then may an explicit write of the value the live state shows be skipped.
   */
  agrees(stream: string, entityId: string, field: string, value: string): boolean {
    return this.maximal(stream, entityId, field).every((e) => e.writes.get(field) === value)
  }

  private add(e: ModelEvent): void {
    this.events.push(e)
    this.bySeq.set(e.seq, e)
    this.byId.set(e.id, e)
  }

  /**
   * The real system imported events from other clones (`sync fetch`), at
   * these local seqs, in this order. Each keeps what its writer's model
   * derived: its causal past, its stream's frontier, its writes; its stream
   * now knows what the event knew. Nothing else changes: no stream here
   * learns anything, so no conflict record moves.
   */
  importEvents(imported: ReadonlyArray<{ readonly seq: number; readonly id: string }>, origin: (id: string) => Origin): void {
    for (const { seq, id } of imported) {
      if (seq <= this.lastSeq) throw new Error(`model: imported event \${seq} is not after \${this.lastSeq}`)
      if (this.byId.has(id)) throw new Error(`model: event \${id} imported twice`)
      const { event: x, model: o } = origin(id)
      const here = (oseq: number) => {
        const found = this.byId.get(o.event(oseq).id)
        if (found === undefined) throw new Error(`model: \${id} imported before \${o.event(oseq).id} in its causal past`)
        return found
      }
      const past = new Set([...x.past].map((p) => here(p).seq))
      const frontier = new Map<string, number>()
      for (const [, oseq] of x.frontier) {
        const e = here(oseq)
        frontier.set(e.stream, Math.max(frontier.get(e.stream) ?? 0, e.seq))
      }
      const stream = this.label(x.replica, x.branch)
      const e: ModelEvent = { ...x, seq, stream, frontier, past }
      this.add(e)
      // An imported stream knows its events and what the newest of them knew.
      if (x.replica !== this.replica) {
        const k = this.mutableKnowledge(stream)
        for (const y of this.events) {
          if (y.stream === stream ? y.seq <= seq : y.seq <= (frontier.get(y.stream) ?? 0)) k.add(y.seq)
        }
      }
    }
  }

  /** The writes to (entity, field) that `stream` knows. */
  private known(stream: string, entityId: string, field: string): Array<ModelEvent> {
    const k = this.knowledgeOf(stream)
    return this.events.filter((e) => k.has(e.seq) && e.entityId === entityId && e.writes.has(field))
  }

  /** Max: the known writes to the field that are in no other known write's causal past. */
  maximal(stream: string, entityId: string, field: string): Array<ModelEvent> {
    const K = this.known(stream, entityId, field)
    return K.filter((x) => !K.some((z) => z !== x && z.past.has(x.seq)))
  }

  private kindOf(entityId: string): EntityKind {
    const e = this.events.find((x) => x.entityId === entityId)
    if (e === undefined) throw new Error(`model: unknown entity ${entityId}`)
    return e.entityKind
  }

  /**
   * The keys of the entity in conflict in `stream`'s scope, each with its
   * conflicting fields in alphabetical order.
   */
  conflictKeys(stream: string, entityId: string): Map<string, Array<string>> {
    const keys = new Map<string, Array<string>>()
    for (const field of FIELDS[this.kindOf(entityId)]) {
      const values = new Set(this.maximal(stream, entityId, field).map((e) => e.writes.get(field)!))
      if (values.size < 2) continue
      const key = field === "existence" || field === "presence" ? field : values.has(BOTTOM) ? "existence" : field
      const list = keys.get(key) ?? []
      list.push(field)
      keys.set(key, list)
    }
    for (const list of keys.values()) list.sort()
    return keys
  }

  /** A side's value in a record: for existence, false for a delete (or an existence write of false), else true. */
  private sideValue(e: ModelEvent, key: string): string {
    if (key === "existence") return isDeleteOp(e.op) || e.writes.get("existence") === "false" ? "false" : "true"
    const v = e.writes.get(key)
    if (v === undefined) throw new Error(`model: event ${e.seq} does not write ${key}`)
    return v
  }

  /** base: the greatest-clock write to the key's field in both sides' causal past; absent if none. */
  private baseOf(ours: ModelEvent, theirs: ModelEvent, key: string): { base: string | null; baseSeq: number | null } {
    const field = key
    const common = this.events.filter((x) =>
      x.entityId === ours.entityId && ours.past.has(x.seq) && theirs.past.has(x.seq) && x.writes.has(field)
    )
    if (common.length === 0) return { base: null, baseSeq: null }
    const best = [...common].sort(byClockDesc)[0]!
    return { base: best.writes.get(field)!, baseSeq: best.seq }
  }

  /** The distinct values among `maximal` with the writes carrying them: ours, theirs, then the rest by value. */
  private sidesOf(maximal: ReadonlyArray<ModelEvent>, key: string, record: { readonly ours: string; readonly theirs: string }) {
    const values = [...new Set(maximal.map((x) => this.sideValue(x, key)))]
    const rank = (v: string) => (v === record.ours ? 0 : v === record.theirs ? 1 : 2)
    return values
      .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
      .map((value) => ({ value, events: maximal.filter((x) => this.sideValue(x, key) === value).map((x) => x.seq).sort((a, b) => a - b) }))
  }

  private pending(stream: string, entityId: string, key: string): ConflictRecord | undefined {
    return this.records.find((r) => r.stream === stream && r.entityId === entityId && r.field === key && r.status === "pending")
  }

  /**
   * `stream` has just learnt y: as an incoming event of a pull made in
   * `worktree`, or (worktree null) as its own new write. Creates, updates and
   * settles records per docs/sync.md. Returns the records created and settled.
   */
  private learn(stream: string, worktree: string | null, y: ModelEvent): Array<ConflictRecord> {
    const changed: Array<ConflictRecord> = []
    const keys = this.conflictKeys(stream, y.entityId)
    for (const [key, fields] of keys) {
      const withY = fields.filter((f) => this.maximal(stream, y.entityId, f).includes(y))
      const record = this.pending(stream, y.entityId, key)
      if (worktree === null) {
        // An own write knows everything its stream knows: it cannot make or change a conflict.
        if (withY.length > 0) throw new Error(`model: own write ${y.seq} is maximal in a conflicting ${key}`)
        if (record === undefined) throw new Error(`model: ${key} of ${y.entityId} in conflict with no pending record`)
        continue
      }
      const field = withY[0]
      if (record === undefined) {
        if (field === undefined) {
          throw new Error(`model: ${key} of ${y.entityId} in conflict with no pending record, and ${y.seq} not maximal in it`)
        }
        const maximal = this.maximal(stream, y.entityId, field)
        const ours = maximal.filter((x) => this.sideValue(x, key) !== this.sideValue(y, key)).sort(byClockDesc)[0]!
        const created: ConflictRecord = {
          id: this.nextRecordId++,
          worktree,
          stream,
          entityKind: this.kindOf(y.entityId),
          entityId: y.entityId,
          field: key,
          ours: this.sideValue(ours, key),
          oursSeq: ours.seq,
          theirs: this.sideValue(y, key),
          theirsSeq: y.seq,
          sides: [],
          ...this.baseOf(ours, y, key),
          status: "pending",
          settledBySeq: null,
          createdBySeq: y.seq
        }
        created.sides = this.sidesOf(maximal, key, created)
        this.records.push(created)
        changed.push(created)
      } else if (field !== undefined) {
        // ours and theirs stay two different values among those now maximal.
        const maximal = this.maximal(stream, y.entityId, field)
        const values = new Set(maximal.map((x) => this.sideValue(x, key)))
        const newestOther = (value: string) => maximal.filter((x) => this.sideValue(x, key) !== value).sort(byClockDesc)[0]!
        let ours = this.event(record.oursSeq)
        let theirs = this.event(record.theirsSeq)
        if (!values.has(record.ours)) ours = newestOther(this.sideValue(y, key))
        if (this.sideValue(y, key) !== this.sideValue(ours, key)) theirs = y
        else if (!values.has(record.theirs) || record.theirs === this.sideValue(ours, key)) theirs = newestOther(this.sideValue(ours, key))
        if (ours.seq !== record.oursSeq || theirs.seq !== record.theirsSeq) {
          record.ours = this.sideValue(ours, key)
          record.oursSeq = ours.seq
          record.theirs = this.sideValue(theirs, key)
          record.theirsSeq = theirs.seq
          const base = this.baseOf(ours, theirs, key)
          record.base = base.base
          record.baseSeq = base.baseSeq
        }
        record.sides = this.sidesOf(maximal, key, record)
      }
    }
    for (const record of this.records) {
      if (record.stream !== stream || record.entityId !== y.entityId || record.status !== "pending") continue
      if (keys.has(record.field)) continue
      record.status = "settled"
      record.settledBySeq = y.seq
      changed.push(record)
    }
    return changed
  }

  /** The streams of branch `b` here: this replica's and imported ones. */
  streamsOfBranch(b: string): Array<string> {
    return [...new Set([b, ...this.events.filter((e) => e.branch === b).map((e) => e.stream)])]
  }

  /** What the streams of branch `b` (but `a`) know together. */
  private sourceKnowledge(a: string, b: string): Set<number> {
    return new Set(this.streamsOfBranch(b).filter((s) => s !== a).flatMap((s) => [...this.knowledgeOf(s)]))
  }

  /**
   * `sync status --from B`: what B knows that A does not, and what A knows that B does not (each side's own
   * events aside). B is every stream of the branch, A's own too when A is on it: A is never ahead of itself.
   */
  behindAhead(a: string, b: string): { readonly behind: number; readonly ahead: number } {
    const mine = this.knowledgeOf(a)
    const theirs = this.sourceKnowledge("", b)
    const sources = new Set(this.streamsOfBranch(b))
    // Knowledge events are bookkeeping: nothing to be behind or ahead on.
    const change = (s: number) => this.event(s).op !== "stream.learnt"
    return {
      behind: [...theirs].filter((s) => !mine.has(s) && this.event(s).stream !== a && change(s)).length,
      ahead: [...mine].filter((s) => !theirs.has(s) && !sources.has(this.event(s).stream) && change(s)).length
    }
  }

  /**
   * `sync pull --from B` in `worktree` (on branch A): A learns, in seq order,
   * everything the streams of branch B (in every replica) know that it does
   * not, `batch` events at a time; after each batch A appends a knowledge event
   * (`knowledge`: what the real system appended, one per batch), whose causal
   * context is what A knows then.
   */
  pull(worktree: string, a: string, b: string, batch = Number.MAX_SAFE_INTEGER, knowledge: ReadonlyArray<EventInput> = []): PullReport {
    const mine = this.mutableKnowledge(a)
    const incoming = [...this.sourceKnowledge(a, b)].filter((s) => !mine.has(s)).sort((x, y) => x - y)
    const created: Array<ConflictRecord> = []
    const settled: Array<ConflictRecord> = []
    const batches = Math.ceil(incoming.length / batch)
    if (knowledge.length !== 0 && knowledge.length !== batches) {
      throw new Error(`model: a pull of ${incoming.length} events in batches of ${batch} appends ${batches} knowledge events, not ${knowledge.length}`)
    }
    for (const [i, seq] of incoming.entries()) {
      mine.add(seq)
      for (const r of this.learn(a, worktree, this.event(seq))) {
        if (r.status === "settled") settled.push(r)
        else created.push(r)
      }
      const batchEnds = (i + 1) % batch === 0 || i === incoming.length - 1
      const k = knowledge[Math.floor(i / batch)]
      if (batchEnds && k !== undefined) this.write(a, [k], worktree)
    }
    return { learnt: incoming, created, settled }
  }

  /** The records of one scope (worktree, stream), in creation order. */
  conflicts(worktree: string, stream: string, options: { readonly pending?: boolean } = {}): Array<ConflictRecord> {
    return this.records.filter((r) =>
      r.worktree === worktree && r.stream === stream && (options.pending !== true || r.status === "pending")
    )
  }

  /** What `resolve <record> --use ours|theirs` in the record's scope should append. */
  expectedResolution(record: ConflictRecord, use: "ours" | "theirs"): Array<ExpectedResolution> | null {
    const chosen = use === "ours" ? record.ours : record.theirs
    const value = JSON.parse(chosen) as unknown
    if (record.entityKind === "dependency" && value === true && !this.canReAdd(record.entityId)) return null
    const first = { entityKind: record.entityKind, entityId: record.entityId, field: record.field, value, causedByFirst: false }
    if (record.field === "existence" && value === false) return [first, ...this.confirmCascade(record.entityKind, record.entityId)]
    if (record.field !== "existence") return [first]
    // Restoring: the entity, then whatever the deleted side's delete cascaded.
    const restored = this.restoredFields(record.stream, record.entityId)
    const out: Array<ExpectedResolution> = [{ ...first, restored }]
    if (this.restoreParents) {
      const live = this.liveState()
      let kind: EntityKind = record.entityKind
      let values = restored
      for (;;) {
        const parentKind = kind === "task" ? "epic" : kind === "subtask" ? "task" : undefined
        const parentId = parentKind === undefined ? undefined : values[parentKind]
        if (parentKind === undefined || typeof parentId !== "string") break
        if ((parentKind === "epic" ? live.epics : live.tasks).some((x) => x.id === parentId)) break
        values = this.restoredFields(record.stream, parentId)
        out.push({ entityKind: parentKind, entityId: parentId, field: "existence", value: true, restored: values, causedByFirst: true })
        kind = parentKind
      }
    }
    const deletedSide = this.cascadeOf === "deleted-side"
      ? this.event(use === "ours" ? record.theirsSeq : record.oursSeq)
      : this.events.filter((e) => e.entityId === record.entityId && isDeleteOp(e.op)).sort(byClockDesc)[0]
    if (deletedSide !== undefined && isDeleteOp(deletedSide.op)) {
      const live = this.liveState()
      const isLive = (id: string) => [...live.epics, ...live.tasks, ...live.subtasks].some((x) => x.id === id)
      const children = this.events.filter((e) => e.causeId === deletedSide.id)
      // An edge comes back only when both of its ends are live or come back in this resolution.
      const back = new Set([...out.map((x) => x.entityId), ...children.filter((c) => c.entityKind !== "dependency").map((c) => c.entityId)])
      for (const child of children) {
        if (child.entityKind !== "dependency" && !this.restoreLiveChildren && isLive(child.entityId)) continue
        if (child.entityKind === "dependency" && !child.entityId.split(">").every((end) => back.has(end) || isLive(end))) continue
        if (child.entityKind === "dependency") {
          out.push({ entityKind: "dependency", entityId: child.entityId, field: "presence", value: true, causedByFirst: true })
        } else {
          out.push({
            entityKind: child.entityKind,
            entityId: child.entityId,
            field: "existence",
            value: true,
            restored: this.restoredFields(record.stream, child.entityId),
            causedByFirst: true
          })
        }
      }
    }
    return out
  }

  /** Re-adding an edge (resolving its presence to true) needs both ends live and no cycle, like `dep add`. */
  private canReAdd(edgeId: string): boolean {
    const [source, target] = edgeId.split(">") as [string, string]
    const live = this.liveState()
    if (live.dependencies.some((d) => d.sourceId === source && d.targetId === target)) return true
    const exists = (id: string) => [...live.tasks, ...live.subtasks].some((x) => x.id === id)
    if (!exists(source) || !exists(target)) return false
    const seen = new Set<string>([target])
    const stack = [target]
    while (stack.length > 0) {
      const at = stack.pop()!
      if (at === source) return false
      for (const d of live.dependencies) if (d.sourceId === at && !seen.has(d.targetId)) seen.add(d.targetId), stack.push(d.targetId)
    }
    return true
  }

  /**
   * Confirming a delete removes what still hangs off the entity, as a delete would: edges touching it or
   * its live children (by edge id), then live subtasks, then live tasks (each by id).
   */
  private confirmCascade(kind: EntityKind, id: string): Array<ExpectedResolution> {
    const live = this.liveState()
    const tasks = kind === "epic" ? live.tasks.filter((t) => t.epicId === id).map((t) => t.id) : []
    const subtasks = kind === "epic" || kind === "task"
      ? live.subtasks.filter((s) => s.taskId === id || tasks.includes(s.taskId)).map((s) => s.id)
      : []
    const nodes = new Set([id, ...tasks, ...subtasks])
    const edges = live.dependencies
      .filter((d) => nodes.has(d.sourceId) || nodes.has(d.targetId))
      .map((d) => `${d.sourceId}>${d.targetId}`)
      .sort()
    return [
      ...edges.map((e) => ({ entityKind: "dependency" as EntityKind, entityId: e, field: "presence", value: false, causedByFirst: true })),
      ...[...subtasks].sort().map((s) => ({ entityKind: "subtask" as EntityKind, entityId: s, field: "existence", value: false, causedByFirst: true })),
      ...[...tasks].sort().map((t) => ({ entityKind: "task" as EntityKind, entityId: t, field: "existence", value: false, causedByFirst: true }))
    ]
  }

  /** Every field but existence: the value of its greatest-clock write that is not ⊥. */
  restoredFields(stream: string, entityId: string): Record<string, unknown> {
    const k = this.knowledgeOf(stream)
    const out: Record<string, unknown> = {}
    for (const field of FIELDS[this.kindOf(entityId)]) {
      if (field === "existence") continue
      const writes = this.events
        .filter((e) => e.entityId === entityId && (this.restoreFrom === "log" || k.has(e.seq)))
        .filter((e) => e.writes.has(field) && e.writes.get(field) !== BOTTOM)
        .sort(byClockDesc)
      const best = writes[0]
      if (best !== undefined) out[field] = JSON.parse(best.writes.get(field)!) as unknown
    }
    return out
  }

  /**
   * What breaks the graph's invariants in the live state (docs/sync.md "Invariant conflicts"), computed
   * naively: whether live edges form a cycle, and every orphan as `child<parent` (a task whose epic, a
   * subtask whose task, an edge one of whose ends is not live). Each must be named by a pending invariant
   * conflict, and every pending one must still hold.
   */
  violations(): { readonly cycle: boolean; readonly orphans: ReadonlyArray<string> } {
    const live = this.liveState()
    const epics = new Set(live.epics.map((e) => e.id))
    const nodes = new Set([...live.tasks.map((t) => t.id), ...live.subtasks.map((x) => x.id)])
    const tasks = new Set(live.tasks.map((t) => t.id))
    const orphans = [
      ...live.tasks.filter((t) => !epics.has(t.epicId)).map((t) => `${t.id}<${t.epicId}`),
      ...live.subtasks.filter((x) => !tasks.has(x.taskId)).map((x) => `${x.id}<${x.taskId}`),
      ...live.dependencies.flatMap((d) => [d.sourceId, d.targetId].filter((end) => !nodes.has(end)).map((end) => `${d.sourceId}>${d.targetId}<${end}`))
    ].sort()
    // A cycle: some node reaches itself along live edges.
    const next = new Map<string, Array<string>>()
    for (const d of live.dependencies) next.set(d.sourceId, [...(next.get(d.sourceId) ?? []), d.targetId])
    const reaches = (from: string, to: string) => {
      const seen = new Set<string>()
      const stack = [...(next.get(from) ?? [])]
      while (stack.length > 0) {
        const at = stack.pop()!
        if (at === to) return true
        if (seen.has(at)) continue
        seen.add(at)
        stack.push(...(next.get(at) ?? []))
      }
      return false
    }
    return { cycle: live.dependencies.some((d) => reaches(d.targetId, d.sourceId)), orphans }
  }

  /** The live state: every event applied in clock order (ties by id), as the projection shows it. */
  liveState(): LiveState {
    type Row = Record<string, unknown> & { id: string; version: number | null }
    const tables: Record<"epic" | "task" | "subtask", Map<string, Row>> = { epic: new Map(), task: new Map(), subtask: new Map() }
    const edges = new Map<string, LiveDependency>()
    /** Endpoints of every edge id seen, so a restored edge can be put back. */
    const endpoints = new Map<string, LiveDependency>()
    const column = (field: string) => (field === "epic" ? "epicId" : field === "task" ? "taskId" : field)
    const rowOf = (kind: "epic" | "task" | "subtask", id: string, values: Record<string, unknown>, version: number | null) => {
      const row: Row = { id, version }
      for (const f of FIELDS[kind]) if (f !== "existence") row[column(f)] = values[f] ?? null
      return row
    }
    for (const e of [...this.events].sort(byClockDesc).reverse()) {
      const p = (e.payload ?? {}) as Record<string, unknown>
      if (e.entityKind === "dependency") {
        const edge = edgeOf(e, endpoints)
        if (edge !== undefined) endpoints.set(e.entityId, edge)
        const presence = e.writes.get("presence")
        if (presence === "true" && edge !== undefined) edges.set(e.entityId, edge)
        if (presence === "false") edges.delete(e.entityId)
        continue
      }
      if (e.entityKind === "stream") continue
      const kind = e.entityKind
      const table = tables[kind]
      if (isCreateOp(e.op)) {
        table.set(e.entityId, rowOf(kind, e.entityId, p, 1))
      } else if (isDeleteOp(e.op)) {
        table.delete(e.entityId)
      } else if (e.op === "conflict.resolved" && p["field"] === "existence") {
        if (p["value"] === true) {
          const version = typeof p["version"] === "number" ? p["version"] : null
          table.set(e.entityId, rowOf(kind, e.entityId, (p["restored"] ?? {}) as Record<string, unknown>, version))
        } else {
          table.delete(e.entityId)
        }
      } else {
        const row = table.get(e.entityId)
        if (row === undefined) continue
        for (const [field, value] of e.writes) row[column(field)] = JSON.parse(value) as unknown
        row.version = row.version === null ? null : row.version + 1
      }
    }
    const sorted = <A extends { id: string }>(m: Map<string, A>) => [...m.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    return {
      epics: sorted(tables.epic) as unknown as Array<LiveEpic>,
      tasks: sorted(tables.task) as unknown as Array<LiveTask>,
      subtasks: sorted(tables.subtask) as unknown as Array<LiveSubtask>,
      dependencies: [...edges.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d)
    }
  }
}

/** The endpoints an edge event names, or those remembered for its id. */
const edgeOf = (e: ModelEvent, known: ReadonlyMap<string, LiveDependency>): LiveDependency | undefined => {
  const p = (e.payload ?? {}) as Record<string, unknown>
  const ends = (p["restored"] ?? p) as { source?: { kind: string; id: string }; target?: { kind: string; id: string } }
  if (ends.source !== undefined && ends.target !== undefined) {
    return { sourceKind: ends.source.kind, sourceId: ends.source.id, targetKind: ends.target.kind, targetId: ends.target.id }
  }
  return known.get(e.entityId)
}
