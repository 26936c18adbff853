/**
 * The reference model alone, one scenario per rule of DESIGN.md section 6.
 * Each stream writes through a small simulator that numbers events the way
 * the shared database would (one global seq) and feeds them to the model.
 */
import { describe, expect, it } from "bun:test"
import type { EntityKind } from "../../src/events/Event.ts"
import { BOTTOM, type ConflictRecord, type EventInput, Model, writesOfEvent } from "./Model.ts"

/** Worktree paths are just names here: the model keys scopes by them. */
const wt = (stream: string) => `/wt/${stream}`

class Sim {
  readonly model = new Model()
  private seq = 0

  private emit(
    stream: string,
    drafts: ReadonlyArray<Omit<EventInput, "seq" | "id" | "stream" | "causeId" | "ifVersion"> & {
      readonly causeId?: string | null
      readonly ifVersion?: boolean
    }>
  ): Array<EventInput> {
    const events = drafts.map((d): EventInput => {
      const seq = ++this.seq
      return { causeId: null, ifVersion: false, ...d, seq, id: `ev${seq}`, stream }
    })
    this.model.write(stream, events, wt(stream))
    return events
  }

  epic(stream: string, id: string, title = "t0") {
    return this.emit(stream, [{ entityKind: "epic", entityId: id, op: "epic.created", payload: { title, description: "", status: "todo" } }])[0]!
  }
  task(stream: string, id: string, epic: string, title = "t0") {
    return this.emit(stream, [{
      entityKind: "task",
      entityId: id,
      op: "task.created",
      payload: { epic, title, description: "", status: "todo", owner: null }
    }])[0]!
  }
  subtask(stream: string, id: string, task: string, title = "s0") {
    return this.emit(stream, [{
      entityKind: "subtask",
      entityId: id,
      op: "subtask.created",
      payload: { task, title, description: "", status: "todo", owner: null }
    }])[0]!
  }
  update(stream: string, kind: EntityKind, id: string, payload: Record<string, unknown>, ifVersion = false) {
    return this.emit(stream, [{ entityKind: kind, entityId: id, op: `${kind}.updated`, payload, ifVersion }])[0]!
  }
  claim(stream: string, id: string, owner: string) {
    return this.emit(stream, [{ entityKind: "task", entityId: id, op: "task.claimed", payload: { owner, status: "in_progress" } }])[0]!
  }
  /** A delete with its cascade, as the tracker emits it: the root first, then children pointing at it. */
  remove(stream: string, kind: EntityKind, id: string, children: ReadonlyArray<{ kind: EntityKind; id: string; payload?: unknown }> = []) {
    const rootSeq = this.seq + 1
    return this.emit(stream, [
      { entityKind: kind, entityId: id, op: `${kind}.deleted`, payload: {} },
      ...children.map((c) => ({
        entityKind: c.kind,
        entityId: c.id,
        op: c.kind === "dependency" ? "dependency.removed" : `${c.kind}.deleted`,
        payload: c.payload ?? {},
        causeId: `ev${rootSeq}`
      }))
    ])
  }
  dep(stream: string, op: "dependency.added" | "dependency.removed", source: string, target: string) {
    const payload = { source: { kind: "task", id: source }, target: { kind: "task", id: target } }
    return this.emit(stream, [{ entityKind: "dependency", entityId: `${source}>${target}`, op, payload }])[0]!
  }
  resolve(stream: string, record: ConflictRecord, use: "ours" | "theirs", version?: number) {
    const expected = this.model.expectedResolution(record, use)
    if (expected === null) throw new Error(`the model refuses resolving ${record.entityId} with ${use}`)
    const firstSeq = this.seq + 1
    return this.emit(
      stream,
      expected.map((r, i) => ({
        entityKind: r.entityKind,
        entityId: r.entityId,
        op: "conflict.resolved",
        payload: {
          conflict: i === 0 ? record.id : null,
          field: r.field,
          value: r.value,
          ...(r.restored === undefined ? {} : { restored: r.restored }),
          ...(r.restored === undefined || version === undefined ? {} : { version })
        },
        causeId: r.causedByFirst ? `ev${firstSeq}` : null
      }))
    )
  }
  pull(a: string, b: string) {
    return this.model.pull(wt(a), a, b)
  }
  conflicts(stream: string, pending = true) {
    return this.model.conflicts(wt(stream), stream, { pending })
  }
}

/** A record without the model's bookkeeping, for comparisons. */
const view = (r: ConflictRecord) => ({
  entityId: r.entityId,
  field: r.field,
  ours: r.ours,
  theirs: r.theirs,
  base: r.base,
  oursSeq: r.oursSeq,
  theirsSeq: r.theirsSeq,
  baseSeq: r.baseSeq,
  status: r.status,
  settledBySeq: r.settledBySeq
})

describe("writes", () => {
  it("a delete writes existence false and ⊥ to every other field; a create writes every field", () => {
    const del = writesOfEvent({ op: "task.deleted", entityKind: "task", payload: {} })
    expect(Object.fromEntries(del)).toEqual({
      description: BOTTOM,
      epic: BOTTOM,
      existence: "false",
      owner: BOTTOM,
      status: BOTTOM,
      title: BOTTOM
    })
    const created = writesOfEvent({
      op: "task.created",
      entityKind: "task",
      payload: { epic: "e", title: "t", description: "", status: "todo", owner: null }
    })
    expect(Object.fromEntries(created)).toEqual({
      description: '""',
      epic: '"e"',
      existence: "true",
      owner: "null",
      status: '"todo"',
      title: '"t"'
    })
    expect(Object.fromEntries(writesOfEvent({ op: "task.claimed", entityKind: "task", payload: { owner: "me", status: "in_progress" } })))
      .toEqual({ owner: '"me"', status: '"in_progress"' })
  })
})

describe("causal past", () => {
  it("holds own earlier events, what was pulled, the creation, and for --if-version every earlier write to the entity", () => {
    const s = new Sim()
    const c = s.epic("c", "e1") // 1
    const b1 = s.update("b", "epic", "e1", { title: "b1" }) // 2
    const x = s.epic("x", "e2") // 3: never pulled by anyone
    const z = s.epic("z", "e3") // 4: never pulled, never edited
    const b2 = s.update("b", "epic", "e2", { title: "b2" }) // 5
    s.pull("a", "b")
    const a1 = s.update("a", "epic", "e1", { title: "a1" }) // 6
    const past = s.model.event(a1.seq).past
    // x is in b2's past (its creation), so in the past of everything that knows b2: causal order is transitive.
    expect([...past].sort()).toEqual([c.seq, b1.seq, x.seq, b2.seq].sort())
    expect(past.has(z.seq)).toBe(false)
    const y = s.update("y", "epic", "e1", { description: "d" }, true) // 7: --if-version
    expect([...s.model.event(y.seq).past].sort()).toEqual([c.seq, b1.seq, x.seq, b2.seq, a1.seq].sort())
  })

  it("is closed: a write after an --if-version write knows what that write saw", () => {
    const s = new Sim()
    const c = s.epic("main", "e1") // 1
    const m1 = s.update("main", "epic", "e1", { title: "m1" }) // 2
    const f1 = s.update("feat", "epic", "e1", { description: "F" }, true) // 3: sees m1
    const f2 = s.update("feat", "epic", "e1", { title: "F2" }) // 4
    expect([...s.model.event(f2.seq).past].sort()).toEqual([c.seq, m1.seq, f1.seq].sort())
    expect(s.pull("main", "feat").created).toEqual([])
  })
})

describe("DESIGN.md section 6 rules", () => {
  it("no conflict when A had already pulled the value it later overwrote", () => {
    const s = new Sim()
    s.epic("main", "e1")
    s.update("b", "epic", "e1", { title: "from b" })
    expect(s.pull("a", "b").created).toEqual([])
    s.update("a", "epic", "e1", { title: "from a" })
    expect(s.pull("b", "a").created).toEqual([])
    expect(s.pull("main", "a").created).toEqual([])
    expect(s.conflicts("a")).toEqual([])
    expect(s.conflicts("b")).toEqual([])
    expect(s.conflicts("main")).toEqual([])
  })

  it("no conflict when the source had already pulled A's value before writing", () => {
    const s = new Sim()
    s.epic("main", "e1")
    s.update("a", "epic", "e1", { title: "from a" })
    s.pull("b", "a")
    s.update("b", "epic", "e1", { title: "from b" })
    expect(s.pull("a", "b").created).toEqual([])
    expect(s.conflicts("a")).toEqual([])
  })

  it("no conflict against the creation value, even when the creation was never pulled", () => {
    const s = new Sim()
    s.epic("a", "e1", "created by a")
    s.update("b", "epic", "e1", { title: "edited by b" }) // b never pulled a: the shared database showed it the epic
    expect(s.pull("a", "b").created).toEqual([])
    expect(s.pull("b", "a").created).toEqual([])
    expect(s.pull("c", "b").created).toEqual([]) // c learns b's edit before the creation
    expect(s.pull("c", "a").created).toEqual([])
  })

  for (const order of ["A first", "B first"] as const) {
    it(`one conflict when both changed the same field independently (${order}), in both scopes`, () => {
      const s = new Sim()
      const created = s.epic("main", "e1", "t0")
      s.pull("a", "main")
      s.pull("b", "main")
      const [first, second] = order === "A first" ? (["a", "b"] as const) : (["b", "a"] as const)
      const w1 = s.update(first, "epic", "e1", { title: `by ${first}` })
      const w2 = s.update(second, "epic", "e1", { title: `by ${second}` })
      const aWrite = first === "a" ? w1 : w2
      const bWrite = first === "a" ? w2 : w1
      const report = s.pull("a", "b")
      expect(report.created.map(view)).toEqual([{
        entityId: "e1",
        field: "title",
        ours: '"by a"',
        theirs: '"by b"',
        base: '"t0"',
        oursSeq: aWrite.seq,
        theirsSeq: bWrite.seq,
        baseSeq: created.seq,
        status: "pending",
        settledBySeq: null
      }])
      expect(s.pull("b", "a").created.map(view)).toEqual([{
        entityId: "e1",
        field: "title",
        ours: '"by b"',
        theirs: '"by a"',
        base: '"t0"',
        oursSeq: bWrite.seq,
        theirsSeq: aWrite.seq,
        baseSeq: created.seq,
        status: "pending",
        settledBySeq: null
      }])
      // Scopes are separate.
      expect(s.conflicts("a").length).toBe(1)
      expect(s.conflicts("b").length).toBe(1)
      expect(s.conflicts("main")).toEqual([])
    })
  }

  it("no conflict from a third branch A has not pulled; pulling it later makes one", () => {
    const s = new Sim()
    s.epic("main", "e1")
    s.update("c", "epic", "e1", { title: "by c" })
    s.update("b", "epic", "e1", { title: "by b" })
    s.update("a", "epic", "e1", { description: "a only touched the description" })
    expect(s.pull("a", "b").created).toEqual([])
    expect(s.conflicts("a")).toEqual([])
    const report = s.pull("a", "c")
    expect(report.created.map((r) => [r.field, r.ours, r.theirs])).toEqual([["title", '"by b"', '"by c"']])
  })

  it("pulling B after B pulled C carries C's writes, transitively", () => {
    const s = new Sim()
    s.epic("main", "e1")
    const c1 = s.update("c", "epic", "e1", { title: "by c" })
    s.pull("b", "c")
    s.update("b", "epic", "e1", { status: "in_progress" })
    const a1 = s.update("a", "epic", "e1", { title: "by a" })
    const report = s.pull("a", "b")
    expect(report.learnt).toContain(c1.seq)
    expect(s.model.knowledgeOf("a").has(c1.seq)).toBe(true)
    expect(report.created.map(view)).toEqual([
      expect.objectContaining({ field: "title", ours: '"by a"', theirs: '"by c"', oursSeq: a1.seq, theirsSeq: c1.seq })
    ])
    // c's write came with b: pulling c now brings nothing new.
    expect(s.pull("a", "c").learnt).toEqual([])
  })

  it("a delete against concurrent edits of several fields is one existence conflict", () => {
    const s = new Sim()
    const created = s.epic("main", "e1")
    s.task("main", "t1", "e1")
    const [del] = s.remove("a", "task", "t1")
    s.update("b", "task", "t1", { title: "renamed" })
    const edit2 = s.update("b", "task", "t1", { description: "described" })
    void created
    const report = s.pull("a", "b")
    expect(report.created.map(view)).toEqual([{
      entityId: "t1",
      field: "existence",
      ours: "false",
      theirs: "true",
      base: "true",
      oursSeq: del!.seq,
      theirsSeq: report.created[0]!.theirsSeq,
      baseSeq: 2,
      status: "pending",
      settledBySeq: null
    }])
    // The second edit is maximal too: theirs follows the newest one.
    expect(s.conflicts("a").map(view)).toEqual([expect.objectContaining({ field: "existence", theirsSeq: edit2.seq })])
    // From b's side: one existence record, ours true, theirs false.
    const fromB = s.pull("b", "a").created
    expect(fromB.map((r) => [r.field, r.ours, r.theirs, r.oursSeq, r.theirsSeq])).toEqual([["existence", "true", "false", edit2.seq, del!.seq]])
  })

  it("a delete's cascade conflicts with concurrent edits of the children it deleted", () => {
    const s = new Sim()
    s.epic("main", "e1")
    s.task("main", "t1", "e1")
    s.task("main", "t2", "e1")
    s.dep("main", "dependency.added", "t1", "t2")
    s.pull("a", "main")
    s.pull("b", "main")
    s.remove("a", "epic", "e1", [
      { kind: "dependency", id: "t1>t2", payload: { source: { kind: "task", id: "t1" }, target: { kind: "task", id: "t2" } } },
      { kind: "task", id: "t1" },
      { kind: "task", id: "t2" }
    ])
    s.update("b", "task", "t2", { owner: "bob" })
    const report = s.pull("a", "b")
    expect(report.created.map((r) => [r.entityId, r.field, r.ours, r.theirs])).toEqual([["t2", "existence", "false", "true"]])
  })

  it("an --if-version write dominates every earlier write to its entity", () => {
    const s = new Sim()
    s.epic("main", "e1")
    s.update("b", "epic", "e1", { title: "by b" })
    s.update("a", "epic", "e1", { title: "by a" }, true)
    expect(s.pull("a", "b").created).toEqual([])
    expect(s.pull("b", "a").created).toEqual([])
    // Without --if-version the same history is a conflict.
    const t = new Sim()
    t.epic("main", "e1")
    t.update("b", "epic", "e1", { title: "by b" })
    t.update("a", "epic", "e1", { title: "by a" })
    expect(t.pull("a", "b").created.length).toBe(1)
  })

  it("a later edit that knows both sides settles the conflict", () => {
    const s = new Sim()
    s.epic("main", "e1")
    s.update("a", "epic", "e1", { title: "by a" })
    s.update("b", "epic", "e1", { title: "by b" })
    s.pull("a", "b")
    expect(s.conflicts("a").length).toBe(1)
    // An edit of another field settles nothing.
    s.update("a", "epic", "e1", { status: "in_progress" })
    expect(s.conflicts("a").length).toBe(1)
    const fix = s.update("a", "epic", "e1", { title: "merged" })
    expect(s.conflicts("a")).toEqual([])
    expect(s.conflicts("a", false).map((r) => [r.status, r.settledBySeq])).toEqual([["settled", fix.seq]])
  })

  it("a resolution settles the conflict, wins the live state, and settles the peer's matching conflict when it pulls", () => {
    const s = new Sim()
    s.epic("main", "e1")
    s.update("a", "epic", "e1", { title: "by a" })
    s.update("b", "epic", "e1", { title: "by b" })
    s.pull("a", "b")
    s.pull("b", "a")
    const [record] = s.conflicts("a")
    const [resolution] = s.resolve("a", record!, "theirs")
    expect(resolution!.payload).toEqual({ conflict: record!.id, field: "title", value: "by b" })
    expect(s.conflicts("a")).toEqual([])
    expect(s.model.liveState().epics.map((e) => e.title)).toEqual(["by b"])
    expect(s.conflicts("b").length).toBe(1)
    const report = s.pull("b", "a")
    expect(report.settled.map((r) => r.settledBySeq)).toEqual([resolution!.seq])
    expect(s.conflicts("b")).toEqual([])
  })

  it("a pull never changes the live state, and the greatest clock wins it", () => {
    const s = new Sim()
    s.epic("main", "e1")
    s.update("b", "epic", "e1", { title: "by b" })
    s.update("a", "epic", "e1", { title: "by a" })
    const before = s.model.liveState()
    s.pull("b", "a")
    s.pull("a", "b")
    expect(s.model.liveState()).toEqual(before)
    expect(before.epics).toEqual([{ id: "e1", title: "by a", description: "", status: "todo", version: 3 }])
  })

  it("value-equal concurrent writes are not a conflict", () => {
    const s = new Sim()
    s.epic("main", "e1")
    s.task("main", "t1", "e1")
    s.update("a", "task", "t1", { title: "same", status: "in_progress" })
    s.update("b", "task", "t1", { title: "same", status: "blocked" })
    const report = s.pull("a", "b")
    expect(report.created.map((r) => r.field)).toEqual(["status"])
    // Two concurrent deletes agree too.
    const t = new Sim()
    t.epic("main", "e1")
    t.remove("a", "epic", "e1")
    t.remove("b", "epic", "e1")
    expect(t.pull("a", "b").created).toEqual([])
  })
})

describe("further details of docs/sync.md", () => {
  it("edges: concurrent remove against add is a presence conflict with no base", () => {
    const s = new Sim()
    s.epic("main", "e1")
    s.task("main", "t1", "e1")
    s.task("main", "t2", "e1")
    const add = s.dep("a", "dependency.added", "t1", "t2")
    const remove = s.dep("b", "dependency.removed", "t1", "t2") // b saw the edge in the shared database
    expect(s.pull("a", "b").created.map(view)).toEqual([{
      entityId: "t1>t2",
      field: "presence",
      ours: "true",
      theirs: "false",
      base: null,
      oursSeq: add.seq,
      theirsSeq: remove.seq,
      baseSeq: null,
      status: "pending",
      settledBySeq: null
    }])
    // Two concurrent adds agree.
    const t = new Sim()
    t.epic("main", "e1")
    t.task("main", "t1", "e1")
    t.task("main", "t2", "e1")
    t.dep("a", "dependency.added", "t1", "t2")
    t.dep("b", "dependency.added", "t1", "t2")
    expect(t.pull("a", "b").created).toEqual([])
  })

  it("an edge's base is the newest write to that same edge both sides knew, never another edge's", () => {
    const s = new Sim()
    s.epic("main", "e1")
    s.task("main", "t1", "e1")
    s.task("main", "t2", "e1")
    s.task("main", "t3", "e1")
    const add = s.dep("main", "dependency.added", "t1", "t2")
    s.dep("main", "dependency.added", "t2", "t3") // newer, in both pasts, but another edge
    s.pull("a", "main")
    s.pull("b", "main")
    const removed = s.dep("a", "dependency.removed", "t1", "t2")
    const readded = s.dep("b", "dependency.added", "t1", "t2") // the shared database showed b the edge gone
    expect(s.pull("a", "b").created.map((r) => [r.field, r.ours, r.oursSeq, r.theirs, r.theirsSeq, r.base, r.baseSeq])).toEqual([
      ["presence", "false", removed.seq, "true", readded.seq, "true", add.seq]
    ])
  })

  it("ours is the greatest-clock other maximal write of the first conflicting field in which the incoming write is maximal", () => {
    const s = new Sim()
    s.epic("main", "e1")
    s.task("main", "t1", "e1")
    s.update("c", "task", "t1", { title: "by c" })
    s.update("d", "task", "t1", { description: "by d" })
    s.pull("a", "c")
    s.pull("a", "d")
    expect(s.conflicts("a")).toEqual([])
    const [del] = s.remove("b", "task", "t1")
    const report = s.pull("a", "b")
    // existence key, fields description and title conflict; description comes first: ours is d's write.
    expect(report.created.map((r) => [r.field, r.ours, r.theirs, r.oursSeq, r.theirsSeq])).toEqual([
      ["existence", "true", "false", 4, del!.seq]
    ])
  })

  it("a field conflict becomes an existence conflict when a concurrent delete arrives", () => {
    const s = new Sim()
    s.epic("main", "e1")
    s.update("a", "epic", "e1", { title: "by a" })
    s.update("b", "epic", "e1", { title: "by b" })
    const [del] = s.remove("c", "epic", "e1")
    s.pull("a", "b")
    const report = s.pull("a", "c")
    expect(report.settled.map((r) => [r.field, r.settledBySeq])).toEqual([["title", del!.seq]])
    expect(report.created.map((r) => [r.field, r.ours, r.theirs])).toEqual([["existence", "true", "false"]])
  })

  it("a pending record's theirs follows the newest incoming maximal write; base follows it", () => {
    const s = new Sim()
    s.epic("main", "e1")
    s.update("a", "epic", "e1", { title: "by a" })
    s.update("b", "epic", "e1", { title: "b1" })
    const b2 = s.update("b", "epic", "e1", { title: "b2" })
    s.pull("a", "b")
    expect(s.conflicts("a").map((r) => [r.theirs, r.theirsSeq, r.base])).toEqual([['"b2"', b2.seq, '"t0"']])
  })

  it("claims write owner and status", () => {
    const s = new Sim()
    s.epic("main", "e1")
    s.task("main", "t1", "e1")
    s.claim("a", "t1", "alice")
    s.claim("b", "t1", "bob")
    const report = s.pull("a", "b")
    expect(report.created.map((r) => [r.field, r.ours, r.theirs])).toEqual([["owner", '"alice"', '"bob"']])
    expect(s.model.liveState().tasks.map((t) => [t.owner, t.status, t.version])).toEqual([["bob", "in_progress", 3]])
  })

  it("resolving a delete conflict for the existing side restores the entity and its cascade, concurrent edits included", () => {
    const s = new Sim()
    s.epic("main", "e1")
    s.task("main", "t1", "e1")
    s.task("main", "t2", "e1")
    s.subtask("main", "s1", "t1")
    s.dep("main", "dependency.added", "t1", "t2")
    s.pull("a", "main")
    s.pull("b", "main")
    s.update("a", "epic", "e1", { title: "edited by a", status: "in_progress" })
    s.update("a", "task", "t1", { owner: "alice" })
    const [del] = s.remove("b", "epic", "e1", [
      { kind: "dependency", id: "t1>t2", payload: { source: { kind: "task", id: "t1" }, target: { kind: "task", id: "t2" } } },
      { kind: "subtask", id: "s1" },
      { kind: "task", id: "t1" },
      { kind: "task", id: "t2" }
    ])
    expect(s.model.liveState()).toEqual({ epics: [], tasks: [], subtasks: [], dependencies: [] })
    s.pull("a", "b")
    const records = s.conflicts("a")
    expect(records.map((r) => [r.entityId, r.field, r.ours, r.theirs])).toEqual([
      ["e1", "existence", "true", "false"],
      ["t1", "existence", "true", "false"]
    ])
    const restore = s.resolve("a", records[0]!, "ours", 4)
    expect(restore.map((e) => [e.entityId, e.causeId])).toEqual([
      ["e1", null],
      ["t1>t2", restore[0]!.id],
      ["s1", restore[0]!.id],
      ["t1", restore[0]!.id],
      ["t2", restore[0]!.id]
    ])
    expect(restore[0]!.payload).toEqual({
      conflict: records[0]!.id,
      field: "existence",
      value: true,
      restored: { description: "", status: "in_progress", title: "edited by a" },
      version: 4
    })
    expect(s.model.liveState()).toEqual({
      epics: [{ id: "e1", title: "edited by a", description: "", status: "in_progress", version: 4 }],
      tasks: [
        { id: "t1", epicId: "e1", title: "t0", description: "", status: "todo", owner: "alice", version: 4 },
        { id: "t2", epicId: "e1", title: "t0", description: "", status: "todo", owner: null, version: 4 }
      ],
      subtasks: [{ id: "s1", taskId: "t1", title: "s0", description: "", status: "todo", owner: null, version: 4 }],
      dependencies: [{ sourceKind: "task", sourceId: "t1", targetKind: "task", targetId: "t2" }]
    })
    // The restore of t1 settled t1's own record; both are gone from a's scope.
    expect(s.conflicts("a")).toEqual([])
    void del
  })

  it("resolving a delete conflict for the deleted side confirms the delete", () => {
    const s = new Sim()
    s.epic("main", "e1")
    s.update("a", "epic", "e1", { title: "edited by a" })
    s.remove("b", "epic", "e1")
    s.pull("a", "b")
    const [record] = s.conflicts("a")
    const [confirm] = s.resolve("a", record!, "theirs")
    expect(confirm!.payload).toEqual({ conflict: record!.id, field: "existence", value: false })
    expect(s.conflicts("a")).toEqual([])
    expect(s.model.liveState().epics).toEqual([])
  })

  it("records belong to the scope that pulled", () => {
    const s = new Sim()
    s.epic("main", "e1")
    s.update("a", "epic", "e1", { title: "by a" })
    s.update("b", "epic", "e1", { title: "by b" })
    s.model.pull("/elsewhere", "a", "b")
    expect(s.conflicts("a")).toEqual([])
    expect(s.model.conflicts("/elsewhere", "a").length).toBe(1)
  })
})
