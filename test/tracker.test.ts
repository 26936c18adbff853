import { beforeAll, describe, expect, it } from "bun:test"
import { Effect } from "effect"
import type { Status } from "../src/events/Event.ts"
import { Queries } from "../src/projections/Queries.ts"
import { Replay } from "../src/projections/Replay.ts"
import { type EntityKindName, Tracker } from "../src/tracker/Tracker.ts"
import { Database } from "bun:sqlite"
import {
  type CliResult,
  claimTask,
  countRows,
  eventsAfter,
  failureIn,
  fileRepo,
  grove,
  groveAsync,
  inWorktree,
  lastSeq,
  neutralEnv,
  scratch,
  type TrackerServices
} from "./support/index.ts"

const repo = fileRepo()
const root = repo.root
const scratchRepos = scratch("all")

type TrackerService = typeof Tracker.Service

/** One grove command in the main checkout, using the tracker. */
const tracker = <A, E>(f: (t: TrackerService) => Effect.Effect<A, E, TrackerServices>) => inWorktree(root, Effect.flatMap(Tracker, f))
/** One grove command expected to fail; returns the coded failure. */
const refused = <A, E>(f: (t: TrackerService) => Effect.Effect<A, E, TrackerServices>) => failureIn(root, Effect.flatMap(Tracker, f))

/** Runs a command expected to fail and checks it appended nothing. */
const refusedWithoutWriting = async <A, E>(f: (t: TrackerService) => Effect.Effect<A, E, TrackerServices>) => {
  const seq = lastSeq(repo.db)
  const tx = countRows(repo.db, "transactions")
  const failure = await refused(f)
  expect(lastSeq(repo.db)).toBe(seq)
  expect(countRows(repo.db, "transactions")).toBe(tx)
  return failure
}

const newEpic = (title = "epic") => tracker((t) => t.create("epic", undefined, { title }))
const newTask = (epic: string, title = "task") => tracker((t) => t.create("task", epic, { title }))
const newSubtask = (task: string, title = "subtask") => tracker((t) => t.create("subtask", task, { title }))
const statusOf = (kind: EntityKindName, id: string) => tracker((t) => t.find(kind, id)).then((e) => e.status)

const statuses: ReadonlyArray<Status> = ["todo", "in_progress", "done", "blocked"]
/** DESIGN.md section 5, written out independently of src/graph/rules.ts. */
const allowed = new Set([
  "todo>in_progress",
  "todo>blocked",
  "in_progress>done",
  "in_progress>blocked",
  "blocked>in_progress",
  "blocked>todo",
  "done>in_progress"
])
/** Allowed steps from todo to each status. */
const pathTo: Record<Status, ReadonlyArray<Status>> = {
  todo: [],
  in_progress: ["in_progress"],
  blocked: ["blocked"],
  done: ["in_progress", "done"]
}

describe("status machine", () => {
  let epicId: string
  let taskId: string
  beforeAll(async () => {
    epicId = (await newEpic("parents")).id
    taskId = (await newTask(epicId, "parent task")).id
  })

  /** A fresh entity of `kind` brought to `status` along allowed steps, in one command. */
  const entityIn = (kind: EntityKindName, status: Status) =>
    tracker((t) =>
      Effect.gen(function*() {
        const parent = kind === "task" ? epicId : kind === "subtask" ? taskId : undefined
        const e = yield* t.create(kind, parent, { title: `${kind} in ${status}` })
        for (const s of pathTo[status]) yield* t.update(kind, e.id, { status: s })
        return yield* t.find(kind, e.id)
      })
    )

  for (const kind of ["task", "subtask", "epic"] as const) {
    for (const from of statuses) {
      for (const to of statuses) {
        if (from === to) continue
        const ok = allowed.has(`${from}>${to}`)
        it(`${kind} ${from} -> ${to} via update --status ${ok ? "succeeds" : "fails with invalid_transition"}`, async () => {
          const entity = await entityIn(kind, from)
          expect(entity.status).toBe(from)
          const seq = lastSeq(repo.db)
          if (ok) {
            const result = await tracker((t) => t.update(kind, entity.id, { status: to }))
            expect(result.changed).toBe(true)
            expect(result.entity.status).toBe(to)
            expect(result.entity.version).toBe(entity.version + 1)
            const written = eventsAfter(repo.db, seq)
            expect(written.map((e) => [e.op, e.entity_id, JSON.parse(e.payload)])).toEqual([
              [`${kind}.updated`, entity.id, { status: to }]
            ])
          } else {
            const failure = await refused((t) => t.update(kind, entity.id, { status: to }))
            expect(failure.code).toBe("invalid_transition")
            expect(failure.details).toEqual({ id: entity.id, from, to })
            expect(lastSeq(repo.db)).toBe(seq)
            expect(await statusOf(kind, entity.id)).toBe(from)
          }
        })
      }
    }
  }

  it("task done and subtask done go straight to done from todo and from blocked, one event each", async () => {
    for (const kind of ["task", "subtask"] as const) {
      for (const from of ["todo", "blocked"] as const) {
        const entity = await entityIn(kind, from)
        const seq = lastSeq(repo.db)
        const result = await tracker((t) => t.done(kind, entity.id))
        expect(result.changed).toBe(true)
        expect(result.entity.status).toBe("done")
        expect(eventsAfter(repo.db, seq).map((e) => [e.op, JSON.parse(e.payload)])).toEqual([[`${kind}.updated`, { status: "done" }]])
        // Done again: nothing to do, nothing written.
        const again = lastSeq(repo.db)
        expect((await tracker((t) => t.done(kind, entity.id))).changed).toBe(false)
        expect(lastSeq(repo.db)).toBe(again)
      }
    }
  })

  it("through the CLI: update --status obeys the machine (exit 1, invalid_transition) and task done skips ahead", async () => {
    const id = (await newTask(epicId, "cli")).id
    const seq = lastSeq(repo.db)
    const bad = grove(root, ["task", "update", id, "--status", "done", "--json"])
    expect(bad.exitCode).toBe(1)
    expect(bad.json).toMatchObject({ ok: false, command: "task update", error: { code: "invalid_transition" } })
    expect(lastSeq(repo.db)).toBe(seq)
    const good = grove(root, ["task", "done", id, "--json"])
    expect(good.exitCode).toBe(0)
    expect(good.json.data.entity.status).toBe("done")
    expect(lastSeq(repo.db)).toBe(seq + 1)
  })
})

describe("dependency gating", () => {
  it("update, claim and done are refused with dependency_not_done until the dependency is done", async () => {
    const epic = await newEpic("gating")
    const a = await newTask(epic.id, "a")
    const b = await newTask(epic.id, "b")
    await tracker((t) => t.addDependency(a.id, b.id))

    const undone = [{ kind: "task", id: b.id, status: "todo" }]
    const attempts: ReadonlyArray<(t: TrackerService) => Effect.Effect<unknown, unknown, TrackerServices>> = [
      (t) => t.update("task", a.id, { status: "in_progress" }),
      () => claimTask(a.id, "agent"),
      (t) => t.done("task", a.id)
    ]
    for (const attempt of attempts) {
      const failure = await refusedWithoutWriting(attempt)
      expect(failure.code).toBe("dependency_not_done")
      expect(failure.details["undone"]).toEqual(undone)
    }
    // in_progress is not done either.
    await tracker((t) => t.update("task", b.id, { status: "in_progress" }))
    expect((await refusedWithoutWriting(() => claimTask(a.id, "agent"))).code).toBe("dependency_not_done")
    expect(await statusOf("task", a.id)).toBe("todo")

    await tracker((t) => t.done("task", b.id))
    const claimed = await tracker(() => claimTask(a.id, "agent"))
    expect(claimed.claimed).toBe(true)
    expect((await tracker((t) => t.done("task", a.id))).entity.status).toBe("done")
  })

  it("an update to in_progress and a done are allowed once the dependency is done", async () => {
    const epic = await newEpic("gating 2")
    const a = await newTask(epic.id, "a")
    const b = await newTask(epic.id, "b")
    await tracker((t) => t.addDependency(a.id, b.id))
    await tracker((t) => t.done("task", b.id))
    expect((await tracker((t) => t.update("task", a.id, { status: "in_progress" }))).entity.status).toBe("in_progress")
    // A dependency added while in progress gates done.
    const c = await newTask(epic.id, "c")
    await tracker((t) => t.addDependency(a.id, c.id))
    expect((await refusedWithoutWriting((t) => t.done("task", a.id))).code).toBe("dependency_not_done")
    expect((await refusedWithoutWriting((t) => t.update("task", a.id, { status: "done" }))).code).toBe("dependency_not_done")
    await tracker((t) => t.done("task", c.id))
    expect((await tracker((t) => t.update("task", a.id, { status: "done" }))).entity.status).toBe("done")
  })

  it("dep add onto a done source with an undone target is refused (dependency_source_done), nothing written; --force adds it and reopens the source to todo", async () => {
    const epic = await newEpic("done source")
    const a = await newTask(epic.id, "a")
    const b = await newTask(epic.id, "b")
    await tracker((t) => t.done("task", a.id))
    const failure = await refusedWithoutWriting((t) => t.addDependency(a.id, b.id))
    expect(failure.code).toBe("dependency_source_done")
    expect(await statusOf("task", a.id)).toBe("done")

    // The command line: exit 1 with the code; --force writes the edge and the reopening in one transaction.
    const cli = grove(root, ["dep", "add", a.id, b.id, "--json"], { env: neutralEnv })
    expect({ exit: cli.exitCode, code: cli.json.error.code }).toEqual({ exit: 1, code: "dependency_source_done" })
    const seq = lastSeq(repo.db)
    const forced = grove(root, ["dep", "add", a.id, b.id, "--force", "--json"], { env: neutralEnv })
    expect(forced.exitCode).toBe(0)
    expect(forced.json.data.reopened).toBe(true)
    expect(lastSeq(repo.db)).toBe(seq + 2)
    expect(await statusOf("task", a.id)).toBe("todo")
    // Done means every dependency done again: a cannot finish before b.
    expect((await refusedWithoutWriting((t) => t.done("task", a.id))).code).toBe("dependency_not_done")

    // A done target, or a source not done, needs no --force.
    const c = await newTask(epic.id, "c")
    await tracker((t) => t.done("task", c.id))
    expect((await tracker((t) => t.addDependency(a.id, c.id))).reopened).toBe(false)
  }, 30_000)

  it("gates subtask -> task and task -> subtask edges too", async () => {
    const epic = await newEpic("mixed")
    const parent = await newTask(epic.id, "parent")
    const other = await newTask(epic.id, "other")
    const s = await newSubtask(parent.id, "s")
    await tracker((t) => t.addDependency(s.id, other.id))
    const fromSubtask = await refusedWithoutWriting((t) => t.update("subtask", s.id, { status: "in_progress" }))
    expect(fromSubtask.code).toBe("dependency_not_done")
    expect(fromSubtask.details["undone"]).toEqual([{ kind: "task", id: other.id, status: "todo" }])
    expect((await refusedWithoutWriting((t) => t.done("subtask", s.id))).code).toBe("dependency_not_done")
    await tracker((t) => t.done("task", other.id))
    expect((await tracker((t) => t.update("subtask", s.id, { status: "in_progress" }))).entity.status).toBe("in_progress")

    const waiting = await newTask(epic.id, "waits for a subtask")
    const step = await newSubtask(parent.id, "step")
    await tracker((t) => t.addDependency(waiting.id, step.id))
    const fromTask = await refusedWithoutWriting(() => claimTask(waiting.id, "agent"))
    expect(fromTask.code).toBe("dependency_not_done")
    expect(fromTask.details["undone"]).toEqual([{ kind: "subtask", id: step.id, status: "todo" }])
    await tracker((t) => t.done("subtask", step.id))
    expect((await tracker(() => claimTask(waiting.id, "agent"))).claimed).toBe(true)
  })

  it("entering todo or blocked is not gated", async () => {
    const epic = await newEpic("ungated")
    const a = await newTask(epic.id, "a")
    const b = await newTask(epic.id, "b")
    await tracker((t) => t.addDependency(a.id, b.id))
    expect((await tracker((t) => t.update("task", a.id, { status: "blocked" }))).entity.status).toBe("blocked")
    expect((await tracker((t) => t.update("task", a.id, { status: "todo" }))).entity.status).toBe("todo")
  })
})

describe("dependency edges", () => {
  it("refuse cycles (2 and 3 nodes, across kinds), self edges and duplicates, writing nothing", async () => {
    const epic = await newEpic("graph")
    const a = await newTask(epic.id, "a")
    const b = await newTask(epic.id, "b")
    const c = await newTask(epic.id, "c")
    const s = await newSubtask(c.id, "s")
    await tracker((t) => t.addDependency(a.id, b.id))
    await tracker((t) => t.addDependency(b.id, c.id))

    const twoNode = await refusedWithoutWriting((t) => t.addDependency(b.id, a.id))
    expect(twoNode.code).toBe("dependency_cycle")
    const threeNode = await refusedWithoutWriting((t) => t.addDependency(c.id, a.id))
    expect(threeNode.code).toBe("dependency_cycle")
    expect(threeNode.details).toEqual({ source: { kind: "task", id: c.id }, target: { kind: "task", id: a.id } })

    await tracker((t) => t.addDependency(c.id, s.id))
    const throughSubtask = await refusedWithoutWriting((t) => t.addDependency(s.id, a.id))
    expect(throughSubtask.code).toBe("dependency_cycle")

    const self = await refusedWithoutWriting((t) => t.addDependency(a.id, a.id))
    expect(self.code).toBe("self_dependency")
    const selfSubtask = await refusedWithoutWriting((t) => t.addDependency(s.id, s.id))
    expect(selfSubtask.code).toBe("self_dependency")

    const duplicate = await refusedWithoutWriting((t) => t.addDependency(a.id, b.id))
    expect(duplicate.code).toBe("dependency_exists")

    // The graph holds exactly the three accepted edges.
    const edges = await inWorktree(root, Effect.flatMap(Queries, (q) => q.allDependencies()))
    const mine = edges.filter((e) => [a.id, b.id, c.id, s.id].includes(e.source.id))
    expect(mine.map((e) => `${e.source.id}>${e.target.id}`).sort()).toEqual([`${a.id}>${b.id}`, `${b.id}>${c.id}`, `${c.id}>${s.id}`].sort())
  })

  it("dep add and dep remove each write one event; removing a missing edge is not_found", async () => {
    const epic = await newEpic("edges")
    const a = await newTask(epic.id, "a")
    const b = await newTask(epic.id, "b")
    const seq = lastSeq(repo.db)
    await tracker((t) => t.addDependency(a.id, b.id))
    await tracker((t) => t.removeDependency(a.id, b.id))
    const edge = { source: { kind: "task", id: a.id }, target: { kind: "task", id: b.id } }
    expect(eventsAfter(repo.db, seq).map((e) => [e.op, e.entity_id, JSON.parse(e.payload)])).toEqual([
      ["dependency.added", `${a.id}>${b.id}`, edge],
      ["dependency.removed", `${a.id}>${b.id}`, edge]
    ])
    expect((await refusedWithoutWriting((t) => t.removeDependency(a.id, b.id))).code).toBe("not_found")
  })
})

describe("--if-version", () => {
  it("with the current version the write succeeds and bumps it; a stale one is version_mismatch and writes nothing", async () => {
    const epic = await newEpic("versions")
    const task = await newTask(epic.id, "v1")
    expect(task.version).toBe(1)
    const updated = await tracker((t) => t.update("task", task.id, { title: "v2" }, 1))
    expect(updated.entity.version).toBe(2)
    expect(updated.entity.title).toBe("v2")

    const attempts: ReadonlyArray<(t: TrackerService) => Effect.Effect<unknown, unknown, TrackerServices>> = [
      (t) => t.update("task", task.id, { title: "stale" }, 1),
      () => claimTask(task.id, "agent", 1),
      (t) => t.done("task", task.id, 1),
      (t) => t.remove("task", task.id, 1)
    ]
    for (const attempt of attempts) {
      const failure = await refusedWithoutWriting(attempt)
      expect(failure.code).toBe("version_mismatch")
      expect(failure.details).toEqual({ id: task.id, expected: 1, actual: 2 })
    }
    const now = await tracker((t) => t.find("task", task.id))
    expect(now).toMatchObject({ title: "v2", version: 2, status: "todo", owner: null })
  })

  it("through the CLI: --if-version N", async () => {
    const id = (await newTask((await newEpic("cli versions")).id, "t")).id
    const ok = grove(root, ["task", "update", id, "--title", "t2", "--if-version", "1", "--json"])
    expect(ok.exitCode).toBe(0)
    expect(ok.json.data.entity.version).toBe(2)
    const seq = lastSeq(repo.db)
    const stale = grove(root, ["task", "update", id, "--title", "t3", "--if-version", "1", "--json"])
    expect(stale.exitCode).toBe(1)
    expect(stale.json.error).toMatchObject({ code: "version_mismatch", details: { id, expected: 1, actual: 2 } })
    expect(lastSeq(repo.db)).toBe(seq)
  })
})

describe("claim", () => {
  it("5 racing CLI processes: exactly one wins, the others exit 1 with claim_lost naming the winner", async () => {
    const epic = await newEpic("race")
    const task = await newTask(epic.id, "contested")
    const seq = lastSeq(repo.db)
    // Hold the write lock while the five start, so they all queue on it and race the moment it is released
    // (each starts in ~0.5 s and its claim takes ~1 ms: without this they would mostly run one after another).
    const blocker = new Database(repo.db)
    blocker.run("BEGIN IMMEDIATE")
    let results: Array<CliResult>
    try {
      const racing = Promise.all(
        [0, 1, 2, 3, 4].map((i) => groveAsync(root, ["task", "claim", task.id, "--owner", `agent-${i}`, "--json"]))
      )
      await Bun.sleep(1500)
      blocker.run("COMMIT")
      results = await racing
    } finally {
      if (blocker.inTransaction) blocker.run("ROLLBACK")
      blocker.close()
    }
    const winners = results.filter((r) => r.exitCode === 0 && r.json?.ok === true)
    expect(winners).toHaveLength(1)
    const winner: string = winners[0]!.json.data.entity.owner
    expect(winner).toMatch(/^agent-[0-4]$/)
    const losers = results.filter((r) => r.exitCode === 1)
    expect(losers).toHaveLength(4)
    for (const l of losers) expect(l.json.error).toMatchObject({ code: "claim_lost", details: { id: task.id, owner: winner } })
    const written = eventsAfter(repo.db, seq)
    expect(written.map((e) => [e.op, e.entity_id, JSON.parse(e.payload)])).toEqual([
      ["task.claimed", task.id, { owner: winner, status: "in_progress" }]
    ])
    expect(await tracker((t) => t.find("task", task.id))).toMatchObject({ owner: winner, status: "in_progress", version: 2 })
  }, 60_000)

  it("re-claiming by the owner is a success without a write; another owner gets claim_lost with the owner", async () => {
    const epic = await newEpic("claims")
    const task = await newTask(epic.id, "t")
    expect((await tracker(() => claimTask(task.id, "alice"))).claimed).toBe(true)
    const seq = lastSeq(repo.db)
    expect((await tracker(() => claimTask(task.id, "alice"))).claimed).toBe(true)
    const other = await refusedWithoutWriting(() => claimTask(task.id, "bob"))
    expect(other).toMatchObject({ code: "claim_lost", details: { id: task.id, owner: "alice" } })
    expect(lastSeq(repo.db)).toBe(seq)
  })
})

describe("cascade delete", () => {
  it("deleting an epic emits epic.deleted, then child deletes and edge removals caused by it; the tables forget them", async () => {
    const epic = await newEpic("doomed")
    const keep = await newEpic("kept")
    const t1 = await newTask(epic.id, "t1")
    const t2 = await newTask(epic.id, "t2")
    const s1 = await newSubtask(t1.id, "s1")
    const s2 = await newSubtask(t1.id, "s2")
    const s3 = await newSubtask(t2.id, "s3")
    const outside = await newTask(keep.id, "outside")
    const outsideStep = await newSubtask(outside.id, "outside step")
    const edges: Array<[string, string]> = [
      [t2.id, t1.id],
      [s1.id, t2.id],
      [s2.id, outside.id],
      [outside.id, s3.id],
      [outsideStep.id, t1.id]
    ]
    for (const [s, t] of edges) await tracker((x) => x.addDependency(s, t))
    // An edge wholly outside the epic survives.
    await tracker((x) => x.addDependency(outsideStep.id, outside.id))

    const seq = lastSeq(repo.db)
    const result = await tracker((t) => t.remove("epic", epic.id))
    const written = eventsAfter(repo.db, seq)
    const [rootEvent, ...cascade] = written
    expect(rootEvent).toMatchObject({ op: "epic.deleted", entity_id: epic.id, cause_id: null, id: result.event })
    expect(cascade.length).toBe(2 + 3 + edges.length)
    for (const e of cascade) expect(e.cause_id).toBe(rootEvent!.id)
    expect(new Set(written.map((e) => e.tx_id)).size).toBe(1)
    const byOp = (op: string) => cascade.filter((e) => e.op === op).map((e) => e.entity_id).sort()
    expect(byOp("task.deleted")).toEqual([t1.id, t2.id].sort())
    expect(byOp("subtask.deleted")).toEqual([s1.id, s2.id, s3.id].sort())
    expect(byOp("dependency.removed")).toEqual(edges.map(([s, t]) => `${s}>${t}`).sort())

    const gone = [epic.id, t1.id, t2.id, s1.id, s2.id, s3.id]
    const list = gone.map((id) => `'${id}'`).join(",")
    expect(countRows(repo.db, "epics", `WHERE id IN (${list})`)).toBe(0)
    expect(countRows(repo.db, "tasks", `WHERE id IN (${list}) OR epic_id = '${epic.id}'`)).toBe(0)
    expect(countRows(repo.db, "subtasks", `WHERE id IN (${list}) OR task_id IN (${list})`)).toBe(0)
    expect(countRows(repo.db, "dependencies", `WHERE source_id IN (${list}) OR target_id IN (${list})`)).toBe(0)
    expect(countRows(repo.db, "dependencies", `WHERE source_id = '${outsideStep.id}' AND target_id = '${outside.id}'`)).toBe(1)
    expect(await tracker((t) => t.find("task", outside.id))).toMatchObject({ status: "todo" })
    expect((await inWorktree(root, Effect.flatMap(Replay, (r) => r.verify))).identical).toBe(true)
  })

  it("deleting a task removes its subtasks and the edges other tasks had to it, which frees them", async () => {
    const epic = await newEpic("task delete")
    const target = await newTask(epic.id, "target")
    const waiting = await newTask(epic.id, "waiting")
    const step = await newSubtask(target.id, "step")
    await tracker((t) => t.addDependency(waiting.id, target.id))
    await tracker((t) => t.addDependency(waiting.id, step.id))
    expect((await refused(() => claimTask(waiting.id, "agent"))).code).toBe("dependency_not_done")

    const seq = lastSeq(repo.db)
    await tracker((t) => t.remove("task", target.id))
    const [rootEvent, ...cascade] = eventsAfter(repo.db, seq)
    expect(rootEvent).toMatchObject({ op: "task.deleted", entity_id: target.id, cause_id: null })
    expect(cascade.map((e) => [e.op, e.entity_id, e.cause_id]).sort()).toEqual(
      [
        ["dependency.removed", `${waiting.id}>${target.id}`, rootEvent!.id],
        ["dependency.removed", `${waiting.id}>${step.id}`, rootEvent!.id],
        ["subtask.deleted", step.id, rootEvent!.id]
      ].sort()
    )
    expect(countRows(repo.db, "dependencies", `WHERE source_id = '${waiting.id}'`)).toBe(0)
    expect(countRows(repo.db, "subtasks", `WHERE task_id = '${target.id}'`)).toBe(0)
    expect((await tracker(() => claimTask(waiting.id, "agent"))).claimed).toBe(true)
  })

  it("deleting a subtask removes only it and its edges", async () => {
    const epic = await newEpic("subtask delete")
    const task = await newTask(epic.id, "task")
    const s = await newSubtask(task.id, "s")
    const sibling = await newSubtask(task.id, "sibling")
    await tracker((t) => t.addDependency(task.id, s.id))
    const seq = lastSeq(repo.db)
    await tracker((t) => t.remove("subtask", s.id))
    const written = eventsAfter(repo.db, seq)
    expect(written.map((e) => [e.op, e.entity_id, e.cause_id])).toEqual([
      ["subtask.deleted", s.id, null],
      ["dependency.removed", `${task.id}>${s.id}`, written[0]!.id]
    ])
    expect(await tracker((t) => t.find("subtask", sibling.id))).toMatchObject({ title: "sibling" })
    expect(await tracker((t) => t.find("task", task.id))).toMatchObject({ title: "task" })
  })
})

describe("task ready", () => {
  it("lists only todo tasks whose dependencies are all done, optionally for one epic", async () => {
    const r = scratchRepos.repo()
    const run = <A, E>(f: (t: TrackerService) => Effect.Effect<A, E>) => inWorktree(r.root, Effect.flatMap(Tracker, f))
    const e1 = await run((t) => t.create("epic", undefined, { title: "e1" }))
    const e2 = await run((t) => t.create("epic", undefined, { title: "e2" }))
    const mk = (epic: string, title: string) => run((t) => t.create("task", epic, { title }))
    const free = await mk(e1.id, "free")
    const waitsOnTodo = await mk(e1.id, "waits on todo")
    const finished = await mk(e1.id, "finished")
    const waitsOnDone = await mk(e1.id, "waits on done")
    const working = await mk(e1.id, "working")
    const stuck = await mk(e1.id, "stuck")
    const waitsOnSubtask = await mk(e1.id, "waits on a subtask")
    const other = await mk(e2.id, "other epic")
    const step = await run((t) => t.create("subtask", free.id, { title: "step" }))
    await run((t) => t.addDependency(waitsOnTodo.id, free.id))
    await run((t) => t.done("task", finished.id))
    await run((t) => t.addDependency(waitsOnDone.id, finished.id))
    await run((t) => t.update("task", working.id, { status: "in_progress" }))
    await run((t) => t.update("task", stuck.id, { status: "blocked" }))
    await run((t) => t.addDependency(waitsOnSubtask.id, step.id))

    const ready = (epic?: string) => inWorktree(r.root, Effect.flatMap(Queries, (q) => q.readyTasks(epic))).then((ts) => ts.map((t) => t.title))
    expect(await ready()).toEqual(["free", "waits on done", "other epic"])
    expect(await ready(e1.id)).toEqual(["free", "waits on done"])
    expect(await ready(e2.id)).toEqual(["other epic"])

    await run((t) => t.done("subtask", step.id))
    expect(await ready(e1.id)).toEqual(["free", "waits on done", "waits on a subtask"])

    const cli = grove(r.root, ["task", "ready", "--epic", e1.id, "--json"])
    expect(cli.exitCode).toBe(0)
    expect(cli.json.data.map((t: { id: string }) => t.id)).toEqual([free.id, waitsOnDone.id, waitsOnSubtask.id])
    void other
  })
})

describe("no-op updates", () => {
  it("an update that changes nothing writes no event and keeps the version", async () => {
    const epic = await newEpic("noop")
    const task = await tracker((t) => t.create("task", epic.id, { title: "same", description: "d", owner: "me" }))
    const seq = lastSeq(repo.db)
    for (const patch of [{}, { title: "same" }, { description: "d", owner: "me" }, { status: "todo" as const }]) {
      const result = await tracker((t) => t.update("task", task.id, patch))
      expect(result.changed).toBe(false)
      expect(result.entity.version).toBe(1)
    }
    expect((await tracker((t) => t.update("epic", epic.id, { title: "noop" }))).changed).toBe(false)
    expect(lastSeq(repo.db)).toBe(seq)
    // A real change writes only the changed field.
    await tracker((t) => t.update("task", task.id, { title: "same", description: "new" }))
    expect(eventsAfter(repo.db, seq).map((e) => JSON.parse(e.payload))).toEqual([{ description: "new" }])
  })
})

describe("not_found", () => {
  it("every command refuses unknown ids with not_found and writes nothing", async () => {
    const epic = await newEpic("present")
    const task = await newTask(epic.id, "present")
    const attempts: ReadonlyArray<(t: TrackerService) => Effect.Effect<unknown, unknown, TrackerServices>> = [
      (t) => t.find("epic", "e-missing"),
      (t) => t.find("task", "t-missing"),
      (t) => t.find("subtask", "s-missing"),
      (t) => t.create("task", "e-missing", { title: "orphan" }),
      (t) => t.create("subtask", "t-missing", { title: "orphan" }),
      (t) => t.update("epic", "e-missing", { title: "x" }),
      (t) => t.update("task", "t-missing", { status: "done" }),
      (t) => t.update("subtask", "s-missing", { title: "x" }),
      () => claimTask("t-missing", "agent"),
      (t) => t.done("task", "t-missing"),
      (t) => t.done("subtask", "s-missing"),
      (t) => t.remove("epic", "e-missing"),
      (t) => t.remove("task", "t-missing"),
      (t) => t.remove("subtask", "s-missing"),
      (t) => t.addDependency(task.id, "t-missing"),
      (t) => t.addDependency("t-missing", task.id),
      (t) => t.removeDependency(task.id, "t-missing"),
      // An epic id is not a dependency endpoint, and a task id is not an epic.
      (t) => t.addDependency(task.id, epic.id),
      (t) => t.find("epic", task.id)
    ]
    for (const attempt of attempts) {
      const failure = await refusedWithoutWriting(attempt)
      expect(failure.code).toBe("not_found")
    }
    const cli = grove(root, ["task", "show", "t-missing", "--json"])
    expect(cli.exitCode).toBe(1)
    expect(cli.json.error.code).toBe("not_found")
  })
})

describe("projection", () => {
  it("stays identical to a replay of the log after this file's commands", async () => {
    const report = await inWorktree(root, Effect.flatMap(Replay, (r) => r.verify))
    expect(report.identical).toBe(true)
    expect(report.events).toBe(countRows(repo.db, "events"))
  })
})

describe("claim refusals", () => {
  it("a done task cannot be claimed (invalid_transition) and an empty owner is invalid_input; neither writes", async () => {
    const r = scratchRepos.repo()
    const epic = await inWorktree(r.root, Effect.flatMap(Tracker, (t) => t.create("epic", undefined, { title: "E" })))
    const task = await inWorktree(r.root, Effect.flatMap(Tracker, (t) => t.create("task", epic.id, { title: "T" })))
    expect((await failureIn(r.root, claimTask(task.id, "  "))).code).toBe("invalid_input")
    await inWorktree(r.root, Effect.flatMap(Tracker, (t) => t.done("task", task.id)))
    const before = countRows(r.db, "events")
    expect((await failureIn(r.root, claimTask(task.id, "alice"))).code).toBe("invalid_transition")
    expect(countRows(r.db, "events")).toBe(before)
  })
})
