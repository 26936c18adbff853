/**
 * Unit tests of conflict detection's pure evaluation (src/causality/Heads.ts): no
 * database, no repository. Events are written out by hand with their causal
 * context (stream, frontier, --if-version, cause), so each test states the
 * causal situation it checks (docs/sync.md rules (a)-(d)).
 *
 * Streams: 1 is the learning stream (A), 2 and 3 are others (B, C).
 */
import { describe, expect, test } from "bun:test"
import { deleted } from "../src/events/writes.ts"
import {
  baseOf,
  type BatchState,
  cascadedEntities,
  conflictKeys,
  creationsToCheck,
  fieldKey,
  fillBases,
  knowsAfter,
  lastWriters,
  type LearnContext,
  type LearntEvent,
  learnWrites,
  makeFieldWrites,
  maximalWrites,
  raiseFloor,
  splitOwn,
  underFloor,
  type WorkingConflict,
  writersAmong
} from "../src/causality/Heads.ts"

const A = 1
const B = 2
const C = 3

/** An event of `stream`; its clock is its seq unless given. */
const event = (seq: number, stream: number, op: string, entityId: string, payload: unknown, more: Partial<LearntEvent> = {}): LearntEvent => ({
  seq,
  id: `e${String(seq).padStart(3, "0")}`,
  streamId: stream,
  entityKind: op.split(".")[0]!,
  entityId,
  op,
  payload,
  clock: seq,
  ifVersion: false,
  frontier: {},
  seen: null,
  causeId: null,
  ...more
})

const createTask = (seq: number, stream: number, id: string, title: string, more: Partial<LearntEvent> = {}) =>
  event(seq, stream, "task.created", id, { epic: "e-1", title, description: "", status: "todo", owner: null }, more)
const retitle = (seq: number, stream: number, id: string, title: string, more: Partial<LearntEvent> = {}) =>
  event(seq, stream, "task.updated", id, { title }, more)

const emptyState = (): BatchState => ({ heads: new Map(), floors: new Map(), pending: new Map(), creations: new Map() })

/** A state whose field `field` of `entity` has these heads. */
const stateWith = (entity: string, field: string, heads: ReadonlyArray<LearntEvent>): BatchState => {
  const state = emptyState()
  state.heads.set(entity, new Map([[field, [...heads]]]))
  return state
}

const context = (over: Partial<LearnContext> = {}): LearnContext => ({
  worktree: "/w",
  mode: "incoming",
  knows: () => true,
  eventBySeq: (seq) => {
    throw new Error(`the evaluation asked for event ${seq}, which the test did not expect it to need`)
  },
  writes: makeFieldWrites(),
  now: 1_000,
  ...over
})

const seqs = (events: ReadonlyArray<LearntEvent> | undefined) => events?.map((e) => e.seq)
const headSeqs = (state: BatchState, entity: string, field: string) => seqs(state.heads.get(entity)?.get(field))

/** A record as the tests compare it: without the events behind its ours and theirs. */
const plain = ({ pair, ...record }: WorkingConflict) => ({ ...record, pair: pair && { ours: pair.ours.seq, theirs: pair.theirs.seq, field: pair.baseField } })

describe("maximal writes of a field", () => {
  test("concurrent writes (neither in the other's causal past) are both maximal", () => {
    const a = retitle(2, A, "t-1", "a")
    const b = retitle(3, B, "t-1", "b", { frontier: { [A]: 1 } })
    expect(seqs(maximalWrites([a], b, undefined, "incoming"))).toEqual([2, 3])
  })

  test("a write whose writer had pulled the head replaces it (rule b); an earlier write of the same stream too (rule a)", () => {
    const a = retitle(2, A, "t-1", "a")
    expect(seqs(maximalWrites([a], retitle(3, B, "t-1", "b", { frontier: { [A]: 2 } }), undefined, "incoming"))).toEqual([3])
    const b1 = retitle(3, B, "t-1", "b1")
    expect(seqs(maximalWrites([b1], retitle(4, B, "t-1", "b2"), undefined, "incoming"))).toEqual([4])
  })

  test("a field changed twice in one batch is written back against the heads it had before the batch, not those in between", () => {
    const state = stateWith("t-1", "title", [retitle(2, A, "t-1", "a")])
    const outcome = learnWrites(state, [retitle(5, B, "t-1", "b1", { frontier: { [A]: 2 } }), retitle(6, B, "t-1", "b2")], context())
    expect(headSeqs(state, "t-1", "title")).toEqual([6])
    // HeadsStore.writeHeads removes the stored rows named here: seq 5 was never stored, seq 2 must go.
    expect(seqs(outcome.dirtyHeads.get("t-1")?.get("title"))).toEqual([2])
  })

  test("a write already in a head's causal past is not maximal, and the head stays", () => {
    const c = retitle(6, C, "t-1", "c", { frontier: { [B]: 5 } })
    const b = retitle(5, B, "t-1", "b")
    expect(seqs(maximalWrites([c], b, undefined, "incoming"))).toEqual([6])
  })

  test("a write learnt already (a replayed pull) changes nothing", () => {
    const b = retitle(3, B, "t-1", "b")
    expect(maximalWrites([b], b, undefined, "incoming")).toBeUndefined()
  })

  test("the stream's own write knows everything the stream knows: it replaces every head", () => {
    const a = retitle(2, A, "t-1", "a")
    const b = retitle(3, B, "t-1", "b")
    expect(seqs(maximalWrites([a, b], retitle(4, A, "t-1", "mine"), undefined, "own"))).toEqual([4])
  })

  test("a creation is in the past of every later write to its entity (rule c)", () => {
    const created = createTask(1, C, "t-1", "t0")
    expect(seqs(maximalWrites([created], retitle(3, B, "t-1", "b"), undefined, "incoming"))).toEqual([3])
  })
})

describe("own writes learnt the short way", () => {
  test("an entity with a pending record or an --if-version write is learnt in full; the others' heads are their fields' last writers, as learnWrites leaves them", () => {
    const batch = [
      createTask(10, A, "t-new", "fresh"),
      retitle(11, A, "t-1", "a"),
      event(12, A, "task.updated", "t-1", { title: "b", owner: "o" }),
      retitle(13, A, "t-2", "c"),
      retitle(14, A, "t-3", "d", { ifVersion: true }),
      retitle(15, A, "t-3", "e")
    ]
    const writers = writersAmong(batch, new Set())
    const { plain, general } = splitOwn(writers, new Set(["t-2"]))
    expect({ plain: seqs(plain), general: seqs(general) }).toEqual({ plain: [11, 12], general: [13, 14, 15] })

    // t-1 held two value-equal heads (no record): learnt in full, its written fields are headed by their last writer alone.
    const state = stateWith("t-1", "title", [retitle(3, B, "t-1", "x"), retitle(4, C, "t-1", "x")])
    const outcome = learnWrites(state, plain, context({ mode: "own" }))
    const inFull = Object.fromEntries([...outcome.dirtyHeads.get("t-1")!.keys()].map((f) => [f, headSeqs(state, "t-1", f)]))
    const short = Object.fromEntries([...lastWriters(plain, makeFieldWrites()).get("t-1")!].map(([f, seq]) => [f, [seq]]))
    expect<Record<string, Array<number> | undefined>>(short).toEqual(inFull)
    expect(short).toEqual({ title: [12], owner: [12] })
    expect({ floors: outcome.dirtyFloors.size, touched: outcome.touched.size }).toEqual({ floors: 0, touched: 0 })
  })
})

describe("--if-version floors (rule d)", () => {
  test("a write below the floor's seq (held where the --if-version write was made) is not maximal", () => {
    const guarded = retitle(10, A, "t-1", "guarded", { ifVersion: true })
    const older = retitle(4, B, "t-1", "older")
    expect(underFloor(older, { seq: 10, seen: {} })).toBe(true)
    expect(seqs(maximalWrites([guarded], older, { seq: 10, seen: {} }, "incoming"))).toEqual([10])
  })

  test("an imported --if-version write's floor covers, per stream, what its writer's database held", () => {
    const floor = raiseFloor(undefined, retitle(20, C, "t-1", "guarded", { ifVersion: true, seen: { [B]: 7 } }))
    expect(floor).toEqual({ seq: 0, seen: { [B]: 7 } })
    expect(underFloor(retitle(7, B, "t-1", "held"), floor)).toBe(true)
    expect(underFloor(retitle(8, B, "t-1", "not held"), floor)).toBe(false)
    expect(underFloor(retitle(5, A, "t-1", "other stream"), floor)).toBe(false)
  })

  test("raising a floor keeps the highest of each bound", () => {
    const local = raiseFloor({ seq: 12, seen: { [B]: 9 } }, retitle(11, A, "t-1", "x", { ifVersion: true }))
    expect(local).toEqual({ seq: 12, seen: { [B]: 9 } })
    expect(raiseFloor(local, retitle(30, C, "t-1", "y", { ifVersion: true, seen: { [B]: 4, [C]: 3 } }))).toEqual({ seq: 12, seen: { [B]: 9, [C]: 3 } })
  })

  test("learning an --if-version write raises and marks its fields' floors; a plain write leaves them", () => {
    const state = stateWith("t-1", "title", [retitle(2, A, "t-1", "a")])
    const guarded = retitle(5, B, "t-1", "b", { ifVersion: true, seen: { [A]: 2 } })
    const outcome = learnWrites(state, [guarded, retitle(6, C, "t-1", "c", { frontier: { [B]: 5 } })], context())
    expect([...outcome.dirtyFloors]).toEqual([fieldKey("t-1", "title")])
    expect(state.floors.get(fieldKey("t-1", "title"))).toEqual({ seq: 0, seen: { [A]: 2 } })
    // The --if-version write had A's write in its past (its writer held it): no conflict, one head after C's.
    expect(headSeqs(state, "t-1", "title")).toEqual([6])
    expect(outcome.created).toEqual([])
  })

  test("a write the floor covers arriving after the --if-version write is not maximal and makes no conflict", () => {
    const state = stateWith("t-1", "title", [retitle(10, A, "t-1", "guarded", { ifVersion: true })])
    state.floors.set(fieldKey("t-1", "title"), { seq: 10, seen: {} })
    const outcome = learnWrites(state, [retitle(4, B, "t-1", "older")], context())
    expect(headSeqs(state, "t-1", "title")).toEqual([10])
    expect(outcome.created).toEqual([])
    expect([...outcome.dirtyHeads].map(([entity, fields]) => [entity, [...fields].map(([field, old]) => [field, old?.map((h) => h.seq)])])).toEqual([["t-1", [["title", [10]]]]])
  })
})

describe("conflict records", () => {
  test("concurrent writes of different values create one pending record: ours the newest other head, theirs the write learnt", () => {
    const state = stateWith("t-1", "title", [retitle(2, A, "t-1", "a")])
    const outcome = learnWrites(state, [retitle(3, B, "t-1", "b", { frontier: { [A]: 1 } })], context())
    expect(headSeqs(state, "t-1", "title")).toEqual([2, 3])
    expect(outcome.created.map(plain)).toEqual([{
      id: undefined,
      worktree: "/w",
      entityKind: "task",
      entityId: "t-1",
      field: "title",
      base: null,
      baseSeq: null,
      ours: '"a"',
      oursSeq: 2,
      theirs: '"b"',
      theirsSeq: 3,
      status: "pending",
      settledSeq: null,
      createdAt: 1_000,
      settledAt: null,
      sides: [{ value: '"a"', events: [2] }, { value: '"b"', events: [3] }],
      pair: { ours: 2, theirs: 3, field: "title" }
    }])
    expect([...outcome.touched]).toEqual([...outcome.created])
    expect(state.pending.get("t-1")?.get("title")).toBe(outcome.created[0]!)
  })

  test("with several concurrent heads, ours is the newest by clock, ties to the greater id", () => {
    const state = stateWith("t-1", "title", [retitle(2, A, "t-1", "a", { clock: 50 }), retitle(3, C, "t-1", "c", { clock: 50 })])
    const outcome = learnWrites(state, [retitle(4, B, "t-1", "b")], context())
    expect(outcome.created.map((r) => [r.oursSeq, r.ours])).toEqual([[3, '"c"']])
  })

  test("concurrent writes of equal values are both maximal but no conflict", () => {
    const state = stateWith("t-1", "title", [retitle(2, A, "t-1", "same")])
    const outcome = learnWrites(state, [retitle(3, B, "t-1", "same")], context())
    expect(headSeqs(state, "t-1", "title")).toEqual([2, 3])
    expect(outcome.created).toEqual([])
    expect(outcome.touched.size).toBe(0)
  })

  test("a causally ordered write replaces the head and makes no conflict", () => {
    const state = stateWith("t-1", "title", [retitle(2, A, "t-1", "a")])
    const outcome = learnWrites(state, [retitle(3, B, "t-1", "b", { frontier: { [A]: 2 } })], context())
    expect(headSeqs(state, "t-1", "title")).toEqual([3])
    expect(outcome.created).toEqual([])
  })

  test("a later incoming write on the same side updates the stored record's theirs and asks for its base again", () => {
    const a = retitle(2, A, "t-1", "a")
    const state = stateWith("t-1", "title", [a, retitle(3, B, "t-1", "b1")])
    const stored: WorkingConflict = {
      ...plainRecord("title", a, '"b1"', 3),
      id: 7
    }
    state.pending.set("t-1", new Map([["title", stored]]))
    const outcome = learnWrites(state, [retitle(4, B, "t-1", "b2")], context())
    expect(headSeqs(state, "t-1", "title")).toEqual([2, 4])
    expect(outcome.created).toEqual([])
    expect([...outcome.touched].map(plain)).toEqual([
      {
        ...plain(stored),
        theirs: '"b2"',
        theirsSeq: 4,
        sides: [{ value: '"a"', events: [2] }, { value: '"b2"', events: [4] }],
        pair: { ours: 2, theirs: 4, field: "title" }
      }
    ])
  })

  test("a stored record whose ours is no longer maximal takes the newest maximal other value as ours, with no lookup", () => {
    const a = retitle(2, A, "t-1", "a")
    const state = stateWith("t-1", "title", [retitle(5, C, "t-1", "c")])
    const stored: WorkingConflict = { ...plainRecord("title", a, '"c"', 5), id: 3 }
    state.pending.set("t-1", new Map([["title", stored]]))
    const asked: Array<number> = []
    learnWrites(state, [retitle(6, B, "t-1", "b")], context({ eventBySeq: (seq) => (asked.push(seq), a) }))
    expect(asked).toEqual([])
    expect([stored.ours, stored.oursSeq, stored.theirs, stored.theirsSeq]).toEqual(['"c"', 5, '"b"', 6])
    expect(stored.sides).toEqual([{ value: '"c"', events: [5] }, { value: '"b"', events: [6] }])
  })

  test("a stored record whose ours is still maximal keeps it, and a third value becomes theirs", () => {
    const a = retitle(2, A, "t-1", "a")
    const state = stateWith("t-1", "title", [retitle(5, C, "t-1", "c")])
    state.heads.get("t-1")!.get("title")!.push({ ...a, seq: 2 })
    const stored: WorkingConflict = { ...plainRecord("title", a, '"c"', 5), id: 3 }
    state.pending.set("t-1", new Map([["title", stored]]))
    learnWrites(state, [retitle(6, B, "t-1", "b")], context())
    expect([stored.ours, stored.theirs, stored.theirsSeq]).toEqual(['"a"', '"b"', 6])
  })

  test("the stream's own write over a conflicted field settles the record, and creates none", () => {
    const a = retitle(2, A, "t-1", "a")
    const state = stateWith("t-1", "title", [a, retitle(3, B, "t-1", "b")])
    const stored: WorkingConflict = { ...plainRecord("title", a, '"b"', 3), id: 4 }
    state.pending.set("t-1", new Map([["title", stored]]))
    const outcome = learnWrites(state, [retitle(9, A, "t-1", "resolved by hand")], context({ mode: "own", now: 2_000 }))
    expect(headSeqs(state, "t-1", "title")).toEqual([9])
    expect(outcome.created).toEqual([])
    expect([...outcome.touched]).toEqual([stored])
    expect([stored.status, stored.settledSeq, stored.settledAt]).toEqual(["settled", 9, 2_000])
    expect(state.pending.get("t-1")?.size).toBe(0)
  })

  test("the stream's own write never creates a record, even where heads differ on another field", () => {
    const state = emptyState()
    state.heads.set("t-1", new Map([["description", [retitle(2, A, "t-1", "x"), event(3, B, "task.updated", "t-1", { description: "d" })]]]))
    const outcome = learnWrites(state, [event(4, A, "task.updated", "t-1", { description: "mine" })], context({ mode: "own" }))
    expect(outcome.created).toEqual([])
  })

  test("an incoming write that knows both sides settles the record", () => {
    const a = retitle(2, A, "t-1", "a")
    const state = stateWith("t-1", "title", [a, retitle(3, B, "t-1", "b")])
    const stored: WorkingConflict = { ...plainRecord("title", a, '"b"', 3), id: 1 }
    state.pending.set("t-1", new Map([["title", stored]]))
    const outcome = learnWrites(state, [retitle(5, B, "t-1", "merged", { frontier: { [A]: 2 } })], context())
    expect(headSeqs(state, "t-1", "title")).toEqual([5])
    expect([stored.status, stored.settledSeq]).toEqual(["settled", 5])
    expect(outcome.created).toEqual([])
  })

  test("a delete against a concurrent edit is one record keyed existence: ours true (the edit), theirs false (the delete)", () => {
    const edit = retitle(2, A, "t-1", "edited")
    const state = stateWith("t-1", "title", [edit])
    const outcome = learnWrites(state, [event(3, B, "task.deleted", "t-1", {})], context())
    expect(headSeqs(state, "t-1", "title")).toEqual([2, 3])
    expect(headSeqs(state, "t-1", "existence")).toEqual([3])
    expect(outcome.created.map((r) => [r.field, r.ours, r.theirs, r.pair?.baseField])).toEqual([["existence", "true", "false", "existence"]])
  })

  test("conflict keys: fields whose maximal writes differ, grouped under existence when one side deletes", () => {
    const writes = makeFieldWrites()
    const del = event(5, B, "task.deleted", "t-1", {})
    const fields = new Map([
      ["title", [retitle(2, A, "t-1", "a"), del]],
      ["description", [event(3, A, "task.updated", "t-1", { description: "d" }), del]],
      ["status", [event(4, A, "task.updated", "t-1", { status: "done" }), event(6, C, "task.updated", "t-1", { status: "blocked" })]],
      ["owner", [event(7, A, "task.updated", "t-1", { owner: "x" }), event(8, C, "task.updated", "t-1", { owner: "x" })]]
    ])
    expect(writes.valueOf(del, "title")).toBe(deleted)
    expect([...conflictKeys(fields, writes)]).toEqual([["existence", ["description", "title"]], ["status", ["status"]]])
  })
})

describe("cascaded deletes against creations (rule c's exception)", () => {
  // C creates subtask s-1 under t-1; A pulled that creation; B, which never pulled it, deletes t-1 and its
  // delete cascades to s-1.
  const creation = event(2, C, "subtask.created", "s-1", { task: "t-1", title: "s", description: "", status: "todo", owner: null })
  const parentDelete = event(4, B, "task.deleted", "t-1", {})
  const cascade = event(5, B, "subtask.deleted", "s-1", {}, { causeId: parentDelete.id })

  test("a cascaded delete is in conflict with the creation it never knew, where the stream knows that creation", () => {
    expect(cascadedEntities([parentDelete, cascade], "incoming")).toEqual(["s-1"])
    const state: BatchState = { ...emptyState(), creations: new Map([["s-1", creation]]) }
    const knows = knowsAfter(A, { [C]: 2 }, [parentDelete, cascade])
    const outcome = learnWrites(state, [parentDelete, cascade], context({ knows }))
    expect(headSeqs(state, "s-1", "existence")).toEqual([2, 5])
    expect(headSeqs(state, "t-1", "existence")).toEqual([4])
    expect(outcome.created.map((r) => [r.entityId, r.field, r.ours, r.oursSeq, r.theirs, r.theirsSeq])).toEqual([["s-1", "existence", "true", 2, "false", 5]])
  })

  test("no conflict where the stream does not know the creation", () => {
    const state: BatchState = { ...emptyState(), creations: new Map([["s-1", creation]]) }
    const outcome = learnWrites(state, [parentDelete, cascade], context({ knows: knowsAfter(A, {}, [parentDelete, cascade]) }))
    expect(headSeqs(state, "s-1", "existence")).toEqual([5])
    expect(outcome.created).toEqual([])
  })

  test("a delete the deleter chose (no cause) has the creation in its past: no conflict", () => {
    const chosen = event(5, B, "subtask.deleted", "s-1", {})
    expect(cascadedEntities([chosen], "incoming")).toEqual([])
    const state = emptyState()
    const outcome = learnWrites(state, [chosen], context())
    expect(headSeqs(state, "s-1", "existence")).toEqual([5])
    expect(outcome.created).toEqual([])
  })

  test("the stream's own cascades are not checked against creations", () => {
    expect(cascadedEntities([cascade], "own")).toEqual([])
  })

  test("a creation arriving after the stream holds a cascaded delete of its entity is learnt like a write", () => {
    const incoming = [createTask(7, C, "t-2", "x"), event(8, C, "epic.created", "e-2", { title: "e", description: "", status: "todo" }), creation]
    expect([...creationsToCheck(incoming, "incoming")]).toEqual(["t-2", "s-1"])
    expect(creationsToCheck(incoming, "own").size).toBe(0)
    expect(seqs(writersAmong([...incoming, retitle(9, C, "t-2", "y")], new Set(["s-1"])))).toEqual([2, 9])
    const state = stateWith("s-1", "existence", [cascade])
    const outcome = learnWrites(state, [creation], context())
    expect(headSeqs(state, "s-1", "existence")).toEqual([5, 2])
    expect(outcome.created.map((r) => [r.field, r.ours, r.theirs])).toEqual([["existence", "false", "true"]])
  })

  test("a creation with no write to its fields yet stays the implicit head", () => {
    const state = emptyState()
    const outcome = learnWrites(state, [createTask(3, B, "t-3", "new")], context())
    expect(state.heads.get("t-3")?.size).toBe(0)
    expect(outcome.dirtyHeads.size).toBe(0)
  })
})

describe("what a stream knows after a batch", () => {
  test("its own events, what its frontier covers, and the batch being learnt", () => {
    const knows = knowsAfter(A, { [B]: 4 }, [retitle(9, C, "t-1", "c")])
    expect(knows(retitle(30, A, "t-1", "own"))).toBe(true)
    expect(knows(retitle(4, B, "t-1", "pulled"))).toBe(true)
    expect(knows(retitle(5, B, "t-1", "not yet"))).toBe(false)
    expect(knows(retitle(9, C, "t-1", "now"))).toBe(true)
  })
})

describe("the base of a record", () => {
  const created = createTask(1, A, "t-1", "t0")
  const first = retitle(2, A, "t-1", "t1")
  const ours = retitle(4, A, "t-1", "a")
  const theirs = retitle(5, B, "t-1", "b", { frontier: { [A]: 2 } })
  const history = [theirs, ours, retitle(3, C, "t-1", "unrelated"), first, created] // newest first

  test("is the newest write to the field in both sides' causal past", () => {
    expect(baseOf(history, { ours, theirs, baseField: "title" }, makeFieldWrites())).toEqual({ value: '"t1"', seq: 2 })
  })

  test("is absent when no write to the field is in both pasts (an edge added and removed concurrently)", () => {
    const edge = { source: { kind: "task", id: "t-1" }, target: { kind: "task", id: "t-2" } }
    const added = event(2, A, "dependency.added", "t-1>t-2", edge)
    const removed = event(3, B, "dependency.removed", "t-1>t-2", edge)
    expect(baseOf([removed, added], { ours: added, theirs: removed, baseField: "presence" }, makeFieldWrites())).toEqual({ value: null, seq: null })
  })

  test("of an existence record is the creation's implicit true", () => {
    const del = event(6, B, "task.deleted", "t-1", {})
    expect(baseOf([del, ...history], { ours, theirs: del, baseField: "existence" }, makeFieldWrites())).toEqual({ value: "true", seq: 1 })
  })

  test("is filled in for the records whose sides changed, and only those", () => {
    const changed: WorkingConflict = { ...plainRecord("title", ours, '"b"', 5), id: 1, pair: { ours, theirs, baseField: "title" } }
    const untouched: WorkingConflict = { ...plainRecord("title", ours, '"b"', 5), id: 2, base: '"kept"', baseSeq: 99 }
    fillBases([changed, untouched], new Map([["t-1", history]]), makeFieldWrites())
    expect([changed.base, changed.baseSeq]).toEqual(['"t1"', 2])
    expect([untouched.base, untouched.baseSeq]).toEqual(['"kept"', 99])
  })
})

/** A stored pending record on `field` of t-1 (id to be set by the test). */
function plainRecord(field: string, ours: LearntEvent, theirs: string, theirsSeq: number): Omit<WorkingConflict, "id"> {
  return {
    worktree: "/w",
    entityKind: "task",
    entityId: "t-1",
    field,
    base: null,
    baseSeq: null,
    ours: JSON.stringify((ours.payload as Record<string, unknown>)[field]),
    oursSeq: ours.seq,
    theirs,
    theirsSeq,
    sides: [{ value: JSON.stringify((ours.payload as Record<string, unknown>)[field]), events: [ours.seq] }, { value: theirs, events: [theirsSeq] }],
    status: "pending",
    settledSeq: null,
    createdAt: 500,
    settledAt: null,
    pair: undefined
  }
}
