import { describe, expect, it } from "bun:test"
import { Effect, Either } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Bulk, type BulkLine, parseJsonLines } from "../src/tracker/Bulk.ts"
import { Tracker } from "../src/tracker/Tracker.ts"
import { countRows, eventsAfter, failureIn, fileRepo, grove, inWorktree, lastSeq } from "./support/index.ts"

const repo = fileRepo()
const root = repo.root

type BulkService = typeof Bulk.Service

const create = (kind: "epic" | "task" | "subtask", parent: string | undefined, title: string) =>
  inWorktree(root, Effect.flatMap(Tracker, (t) => t.create(kind, parent, { title })))
/** Sequentially: in-process commands each open their own connection, and bun:sqlite waits for locks synchronously. */
const createTasks = async (epic: string, titles: ReadonlyArray<string>) => {
  const out = []
  for (const title of titles) out.push(await create("task", epic, title))
  return out
}
const bulk = <A, E>(f: (b: BulkService) => Effect.Effect<A, E>) => inWorktree(root, Effect.flatMap(Bulk, f))

/** Everything a rejected batch must leave untouched. */
const snapshot = () => ({
  events: countRows(repo.db, "events"),
  lastSeq: lastSeq(repo.db),
  transactions: countRows(repo.db, "transactions"),
  epics: countRows(repo.db, "epics"),
  tasks: countRows(repo.db, "tasks"),
  subtasks: countRows(repo.db, "subtasks"),
  dependencies: countRows(repo.db, "dependencies")
})

/** Runs a bulk command expected to be rejected; checks the code and that nothing was written; returns details. */
const rejected = async <A, E>(f: (b: BulkService) => Effect.Effect<A, E>) => {
  const before = snapshot()
  const failure = await failureIn(root, Effect.flatMap(Bulk, f))
  expect(failure.code).toBe("bulk_input_invalid")
  expect(snapshot()).toEqual(before)
  return failure
}

/** A CLI bulk command expected to be rejected: exit 1, bulk_input_invalid, nothing written. */
const rejectedByCli = (args: ReadonlyArray<string>, stdin?: string) => {
  const before = snapshot()
  const r = grove(root, [...args, "--json"], stdin === undefined ? {} : { stdin })
  expect(r.exitCode).toBe(1)
  expect(r.json?.ok).toBe(false)
  expect(r.json.error.code).toBe("bulk_input_invalid")
  expect(snapshot()).toEqual(before)
  return r.json.error
}

const writeFile = (name: string, text: string) => {
  const path = NodePath.join(repo.base, name)
  NodeFs.writeFileSync(path, text)
  return path
}

/** Checks the events written since `seq`: one transaction, one `op` event per id, nothing else. */
const expectOneTransaction = (seq: number, op: string, ids: ReadonlyArray<string>) => {
  const written = eventsAfter(repo.db, seq)
  expect(written).toHaveLength(ids.length)
  expect(new Set(written.map((e) => e.tx_id)).size).toBe(1)
  expect(written.every((e) => e.op === op)).toBe(true)
  expect(written.map((e) => e.entity_id)).toEqual([...ids])
  return written
}

describe("create-many through the CLI", () => {
  it("task create-many with repeated --title: one transaction, one task.created per title", async () => {
    const epic = await create("epic", undefined, "flags")
    const seq = lastSeq(repo.db)
    const tx = countRows(repo.db, "transactions")
    const r = grove(root, ["task", "create-many", "--epic", epic.id, "--title", "a", "--title", "b", "--title", "c", "--json"])
    expect(r.exitCode).toBe(0)
    expect(r.json).toMatchObject({ ok: true, command: "task create-many", data: { created: 3 } })
    const ids: Array<string> = r.json.data.ids
    expect(ids).toHaveLength(3)
    const written = expectOneTransaction(seq, "task.created", ids)
    expect(written.map((e) => JSON.parse(e.payload))).toEqual(
      ["a", "b", "c"].map((title) => ({ epic: epic.id, title, description: "", status: "todo", owner: null }))
    )
    expect(countRows(repo.db, "transactions")).toBe(tx + 1)
    expect(countRows(repo.db, "tasks", `WHERE epic_id = '${epic.id}'`)).toBe(3)
  })

  it("task create-many --file reads JSON lines (blank lines skipped, parent overrides --epic)", async () => {
    const epic = await create("epic", undefined, "file")
    const other = await create("epic", undefined, "other")
    const file = writeFile(
      "tasks.jsonl",
      [
        JSON.stringify({ title: "x" }),
        "",
        JSON.stringify({ title: "y", description: "why", owner: "olga" }),
        "   ",
        JSON.stringify({ title: "z", parent: other.id }),
        ""
      ].join("\n")
    )
    const seq = lastSeq(repo.db)
    const r = grove(root, ["task", "create-many", "--epic", epic.id, "--file", file, "--json"])
    expect(r.exitCode).toBe(0)
    expect(r.json.data.created).toBe(3)
    const written = expectOneTransaction(seq, "task.created", r.json.data.ids)
    expect(written.map((e) => JSON.parse(e.payload))).toEqual([
      { epic: epic.id, title: "x", description: "", status: "todo", owner: null },
      { epic: epic.id, title: "y", description: "why", status: "todo", owner: "olga" },
      { epic: other.id, title: "z", description: "", status: "todo", owner: null }
    ])
  })

  it("subtask create-many --file - reads JSON lines from stdin", async () => {
    const epic = await create("epic", undefined, "stdin")
    const task = await create("task", epic.id, "parent")
    const stdin = Array.from({ length: 5 }, (_, i) => JSON.stringify({ title: `step ${i}` })).join("\n") + "\n"
    const seq = lastSeq(repo.db)
    const r = grove(root, ["subtask", "create-many", "--task", task.id, "--file", "-", "--json"], { stdin })
    expect(r.exitCode).toBe(0)
    expect(r.json).toMatchObject({ ok: true, command: "subtask create-many", data: { created: 5 } })
    const written = expectOneTransaction(seq, "subtask.created", r.json.data.ids)
    expect(written.map((e) => JSON.parse(e.payload).title)).toEqual([0, 1, 2, 3, 4].map((i) => `step ${i}`))
    expect(countRows(repo.db, "subtasks", `WHERE task_id = '${task.id}'`)).toBe(5)
  })

  it("dep add-many with repeated --edge: one transaction, one dependency.added per edge", async () => {
    const epic = await create("epic", undefined, "edges")
    const [a, b, c] = await createTasks(epic.id, ["a", "b", "c"])
    const seq = lastSeq(repo.db)
    const r = grove(root, ["dep", "add-many", "--edge", `${a!.id}:${b!.id}`, "--edge", `${b!.id}:${c!.id}`, "--json"])
    expect(r.exitCode).toBe(0)
    expect(r.json.data).toEqual({ added: 2 })
    expectOneTransaction(seq, "dependency.added", [`${a!.id}>${b!.id}`, `${b!.id}>${c!.id}`])
  })
})

describe("all-or-nothing", () => {
  const lines = (n: number, bad: number, badValue: unknown): Array<BulkLine> =>
    Array.from({ length: n }, (_, i) => ({ line: i + 1, value: i + 1 === bad ? badValue : { title: `task ${i + 1}` } }))

  it("an empty title on line 9,999 of 10,000 rejects the batch: bulk_input_invalid, line 9999, nothing written", async () => {
    const epic = await create("epic", undefined, "big")
    const failure = await rejected((b) => b.createMany("task", epic.id, lines(10_000, 9_999, { title: "" })))
    expect(failure.details["line"]).toBe(9_999)
    expect(failure.message).toContain("line 9999")
    // The same batch without the bad line goes in whole, in one transaction.
    const seq = lastSeq(repo.db)
    const ok = await bulk((b) => b.createMany("task", epic.id, lines(10_000, 0, undefined)))
    expect(ok.created).toBe(10_000)
    expect(countRows(repo.db, "tasks", `WHERE epic_id = '${epic.id}'`)).toBe(10_000)
    expect(new Set(eventsAfter(repo.db, seq).map((e) => e.tx_id)).size).toBe(1)
  }, 20_000)

  it("an unknown parent on line 9,999 of 10,000 rejects the batch: bulk_input_invalid, line 9999, nothing written", async () => {
    const epic = await create("epic", undefined, "big 2")
    const failure = await rejected((b) => b.createMany("task", epic.id, lines(10_000, 9_999, { title: "lost", parent: "e-unknown" })))
    expect(failure.details["line"]).toBe(9_999)
    expect(failure.details["reason"]).toContain("e-unknown")
  }, 20_000)

  it("subtask create-many: an unknown task or no task at all names the line", async () => {
    const epic = await create("epic", undefined, "subtasks")
    const task = await create("task", epic.id, "t")
    const unknown = await rejected((b) =>
      b.createMany("subtask", task.id, [
        { line: 1, value: { title: "ok" } },
        { line: 2, value: { title: "lost", parent: "t-unknown" } }
      ])
    )
    expect(unknown.details["line"]).toBe(2)
    const noParent = await rejected((b) =>
      b.createMany("subtask", undefined, [
        { line: 1, value: { title: "ok", parent: task.id } },
        { line: 2, value: { title: "orphan" } }
      ])
    )
    expect(noParent.details["line"]).toBe(2)
  })
})

describe("bad input lines", () => {
  it("an invalid JSON line is rejected with its line number (CLI --file), nothing written", async () => {
    const epic = await create("epic", undefined, "json")
    const file = writeFile("bad.jsonl", [JSON.stringify({ title: "a" }), "", JSON.stringify({ title: "b" }), "{\"title\": oops}", JSON.stringify({ title: "c" })].join("\n"))
    const error = rejectedByCli(["task", "create-many", "--epic", epic.id, "--file", file])
    expect(error.details.line).toBe(4)
    expect(error.details.reason).toContain("invalid JSON")
    // The parser itself, with numbering kept across blank lines.
    const parsed = parseJsonLines("\n{\"title\":\"a\"}\n\n[1,\n")
    if (Either.isRight(parsed)) throw new Error("parsed invalid JSON")
    expect(parsed.left.details).toMatchObject({ line: 4 })
    expect(Either.getOrThrow(parseJsonLines("\n{\"title\":\"a\"}\n\n7\n"))).toEqual([
      { line: 2, value: { title: "a" } },
      { line: 4, value: 7 }
    ])
  })

  it("100,000 nested brackets on a line are bulk_input_invalid with the line number (not internal), nothing written; brackets inside strings do not count", async () => {
    const epic = await create("epic", undefined, "deep")
    const deep = `{"title":${"[".repeat(100_000)}"x"${"]".repeat(100_000)}}`
    const error = rejectedByCli(["task", "create-many", "--epic", epic.id, "--file", "-"], `${JSON.stringify({ title: "fine" })}\n${deep}\n`)
    expect(error.details).toEqual({ line: 2, reason: "JSON nested deeper than 32 levels" })
    const bare = rejectedByCli(["dep", "add-many", "--file", "-"], "[".repeat(100_000) + "]".repeat(100_000))
    expect(bare.details.line).toBe(1)
    expect(Either.isRight(parseJsonLines(JSON.stringify({ title: "[".repeat(1000) })))).toBe(true)
  }, 30_000)

  it("a line without a title is rejected with its line number (CLI stdin), nothing written", async () => {
    const epic = await create("epic", undefined, "titles")
    const stdin = [JSON.stringify({ title: "a" }), JSON.stringify({ description: "no title" }), JSON.stringify({ title: "c" })].join("\n")
    const error = rejectedByCli(["task", "create-many", "--epic", epic.id, "--file", "-"], stdin)
    expect(error.details.line).toBe(2)
    expect(error.details.reason).toContain("title")
    // A non-object line and a blank title are rejected the same way.
    expect((await rejected((b) => b.createMany("task", epic.id, [{ line: 1, value: { title: "ok" } }, { line: 2, value: "just text" }]))).details["line"]).toBe(2)
    expect((await rejected((b) => b.createMany("task", epic.id, [{ line: 1, value: { title: "   " } }]))).details["line"]).toBe(1)
  })

  it("dep add-many: an edge to a missing node is rejected with its line, nothing written", async () => {
    const epic = await create("epic", undefined, "missing node")
    const a = await create("task", epic.id, "a")
    const b = await create("task", epic.id, "b")
    const target = await rejected((x) =>
      x.addDependencies([
        { line: 1, value: { source: a.id, target: b.id } },
        { line: 2, value: { source: b.id, target: "t-missing" } }
      ])
    )
    expect(target.details["line"]).toBe(2)
    expect(target.details["reason"]).toContain("t-missing")
    const source = await rejected((x) => x.addDependencies([{ line: 1, value: { source: "s-missing", target: a.id } }]))
    expect(source.details["line"]).toBe(1)
    const error = rejectedByCli(["dep", "add-many", "--file", "-"], `${JSON.stringify({ source: a.id, target: b.id })}\n${JSON.stringify({ source: a.id })}\n`)
    expect(error.details.line).toBe(2)
  })

  it("dep add-many: a done source waiting for a target not done is refused with dependency_source_done, as dep add, nothing written", async () => {
    const epic = await create("epic", undefined, "done rule")
    const [a, b, c] = await createTasks(epic.id, ["a", "b", "c"])
    const s = await create("subtask", c!.id, "s")
    for (const id of [a!.id, c!.id]) await inWorktree(root, Effect.flatMap(Tracker, (t) => t.done("task", id)))
    const before = snapshot()
    // Line 1 is fine (a done target); line 2 makes done `a` wait for `b`, which is todo.
    const failure = await failureIn(root, Effect.flatMap(Bulk, (x) =>
      x.addDependencies([
        { line: 1, value: { source: b!.id, target: a!.id } },
        { line: 2, value: { source: a!.id, target: s.id } }
      ])))
    expect(failure.code).toBe("dependency_source_done")
    expect(failure.details).toEqual({ line: 2, source: { kind: "task", id: a!.id }, target: { kind: "subtask", id: s.id }, targetStatus: "todo" })
    expect(snapshot()).toEqual(before)
    const cli = grove(root, ["dep", "add-many", "--edge", `${b!.id}:${a!.id}`, "--edge", `${c!.id}:${b!.id}`, "--json"])
    expect({ exit: cli.exitCode, code: cli.json.error.code, line: cli.json.error.details.line }).toEqual({ exit: 1, code: "dependency_source_done", line: 2 })
    expect(snapshot()).toEqual(before)
    // A done source with a done target is allowed, as with dep add.
    expect(await bulk((x) => x.addDependencies([{ line: 1, value: { source: c!.id, target: a!.id } }]))).toEqual({ added: 1 })
  })

  it("dep add-many: a cycle within the batch, or with existing edges, is rejected at the closing line, nothing written", async () => {
    const epic = await create("epic", undefined, "cycle")
    const [a, b, c, d] = await createTasks(epic.id, ["a", "b", "c", "d"])
    const s = await create("subtask", d!.id, "s")
    const edge = (x: { id: string }, y: { id: string }) => ({ source: x.id, target: y.id })
    const inBatch = await rejected((x) =>
      x.addDependencies([
        { line: 1, value: edge(a!, b!) },
        { line: 2, value: edge(b!, c!) },
        { line: 3, value: edge(c!, s) },
        { line: 4, value: edge(s, a!) }
      ])
    )
    expect(inBatch.details["line"]).toBe(4)
    expect(inBatch.details["reason"]).toContain("cycle")

    await bulk((x) => x.addDependencies([{ line: 1, value: edge(a!, b!) }]))
    const withExisting = await rejected((x) =>
      x.addDependencies([
        { line: 1, value: edge(c!, d!) },
        { line: 2, value: edge(b!, c!) },
        { line: 3, value: edge(d!, a!) }
      ])
    )
    expect(withExisting.details["line"]).toBe(3)
    // Self edges name their line too.
    expect((await rejected((x) => x.addDependencies([{ line: 1, value: edge(c!, d!) }, { line: 2, value: edge(d!, d!) }]))).details["line"]).toBe(2)
  })

  it("dep add-many is idempotent: an edge already present, or repeated in the batch, is skipped and reported by line", async () => {
    const epic = await create("epic", undefined, "again")
    const [a, b, c] = await createTasks(epic.id, ["a", "b", "c"])
    const edge = (x: { id: string }, y: { id: string }) => ({ source: x.id, target: y.id })
    await bulk((x) => x.addDependencies([{ line: 1, value: edge(a!, b!) }]))
    const again = await bulk((x) =>
      x.addDependencies([{ line: 1, value: edge(a!, b!) }, { line: 2, value: edge(b!, c!) }, { line: 3, value: edge(b!, c!) }])
    )
    expect(again).toEqual({
      added: 1,
      skipped: [{ line: 1, source: a!.id, target: b!.id }, { line: 3, source: b!.id, target: c!.id }]
    })
  })
})
