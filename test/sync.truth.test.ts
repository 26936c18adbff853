/**
 * Issue 12, "sync truth": one scenario per point, on real repositories with
 * real linked worktrees sharing one SQLite file (services in-process, one call
 * per grove command). The property test (test/sync.property.test.ts) checks
 * the same rules on random scenarios against the reference model.
 */
import { describe, expect, test } from "bun:test"
import { Effect } from "effect"
import { type Conflict, Conflicts } from "../src/sync/Conflicts.ts"
import { Sync } from "../src/sync/Sync.ts"
import { Tracker } from "../src/tracker/Tracker.ts"
import * as NodePath from "node:path"
import {
  countRows,
  createEntity as create,
  git,
  grove,
  inWorktree as go,
  isolateEnv,
  pullInto as pull,
  scratch,
  taskVersion as versionOf,
  updateTask as update,
  withDb
} from "./support/index.ts"

isolateEnv()
const newRepo = scratch("all").repo

const brief = (c: Conflict) => ({ field: c.field, ours: c.ours, theirs: c.theirs, status: c.status })
const conflictsIn = async (cwd: string, all = false) => (await go(cwd, Effect.flatMap(Conflicts, (c) => c.list({ all })))).map(brief)

/** main with an epic and task T, and linked worktrees on the given branches. */
const setup = async (branches: ReadonlyArray<string>) => {
  const repo = newRepo()
  const wt = Object.fromEntries(branches.map((b) => [b, repo.addWorktree(b)])) as Record<string, string>
  const epic = await go(repo.root, create("epic", undefined, "E"))
  const t = await go(repo.root, create("task", epic, "t0"))
  return { main: repo.root, db: repo.db, wt, t, epic }
}

describe("point 1: causal order is transitive", () => {
  test("the issue's reproduction: feature saw m1 through an --if-version write before it wrote F2, so no conflict", async () => {
    const { main, wt: { feature }, t } = await setup(["feature"])
    await go(main, update(t, { title: "m1" }))
    await go(feature!, Effect.gen(function*() {
      const v = yield* versionOf(t)
      yield* update(t, { description: "F" }, v)
      yield* update(t, { title: "F2" })
    }))
    const report = await pull(main, "feature")
    expect(report.conflictsCreated).toBe(0)
    expect(await conflictsIn(main, true)).toEqual([])
  })

  test("the other direction: an --if-version write learns a concurrent write to its entity, and its scope shows that conflict", async () => {
    const { main, wt: { feature }, t } = await setup(["feature"])
    await go(main, update(t, { description: "v1" }))
    await go(feature!, update(t, { description: "v3" }))
    // main's informed write to another field knows both descriptions now: the conflict is in main's scope at once.
    await go(main, Effect.flatMap(versionOf(t), (v) => update(t, { title: "checked" }, v)))
    expect(await conflictsIn(main)).toEqual([{ field: "description", ours: "v1", theirs: "v3", status: "pending" }])
    // A pull of feature has nothing left to learn on that field: the record stays the one conflict.
    expect((await pull(main, "feature")).conflictsCreated).toBe(0)
  })

  test("what a write brought in travels with its stream: a third branch pulling it learns that past too", async () => {
    const { main, wt: { feature, third }, t } = await setup(["feature", "third"])
    await go(main, update(t, { title: "m1" }))
    await go(feature!, Effect.flatMap(versionOf(t), (v) => update(t, { description: "F" }, v)))
    // third wrote m1's competitor before anything; pulling feature brings main's m1 along (feature knew it).
    await go(third!, update(t, { title: "x" }))
    const report = await pull(third!, "feature")
    expect(report.cursor).toMatchObject({ feature: expect.any(Number), main: expect.any(Number) })
    expect(await conflictsIn(third!)).toEqual([{ field: "title", ours: "x", theirs: "m1", status: "pending" }])
  })
})

describe("point 2: an explicit write is never dropped as a no-op when it carries a decision", () => {
  test("writing the value an unpulled branch wrote is recorded, and decides the conflict the next pull would report", async () => {
    const { main, db, wt: { feature }, t } = await setup(["feature"])
    await go(main, update(t, { title: "v1" }))
    await go(feature!, update(t, { title: "v2" }))
    // The live title is v2, but main's scope only knows its own v1: writing v2 is main's decision.
    const before = countRows(db, "events")
    const r = await go(main, update(t, { title: "v2" }))
    expect(r.changed).toBe(true)
    expect(countRows(db, "events")).toBe(before + 1)
    // Both branches now say v2: no conflict to report.
    expect((await pull(main, "feature")).conflictsCreated).toBe(0)
  })

  test("under a pending conflict, writing the value the live state shows settles it", async () => {
    const { main, wt: { feature }, t } = await setup(["feature"])
    await go(main, update(t, { title: "m" }))
    await go(feature!, update(t, { title: "f" }))
    await pull(main, "feature")
    expect(await conflictsIn(main)).toEqual([{ field: "title", ours: "m", theirs: "f", status: "pending" }])
    // The live title is f (the later write); main writes f: a decision, recorded, settling the record.
    const r = await go(main, update(t, { title: "f" }))
    expect(r.changed).toBe(true)
    expect(await conflictsIn(main)).toEqual([])
    expect(await conflictsIn(main, true)).toEqual([{ field: "title", ours: "m", theirs: "f", status: "settled" }])
  })

  test("a write this scope already agrees on changes nothing", async () => {
    const { main, db, t } = await setup([])
    await go(main, update(t, { title: "same" }))
    const before = countRows(db, "events")
    const r = await go(main, update(t, { title: "same" }))
    expect(r.changed).toBe(false)
    expect(countRows(db, "events")).toBe(before)
  })
})

describe("point 6: a conflict record shows the disagreement as it is", () => {
  test("three branches write v2, v1, v2: the record stays ours v2 / theirs v1, with both v2 writes on one side", async () => {
    const { main, wt: { b, c }, t } = await setup(["b", "c"])
    await go(c!, update(t, { title: "v2" }))
    await go(b!, update(t, { title: "v1" }))
    await go(main, update(t, { title: "v2" }))
    await pull(main, "b")
    expect(await conflictsIn(main)).toEqual([{ field: "title", ours: "v2", theirs: "v1", status: "pending" }])
    await pull(main, "c")
    const [record] = await go(main, Effect.flatMap(Conflicts, (x) => x.list({})))
    expect(brief(record!)).toEqual({ field: "title", ours: "v2", theirs: "v1", status: "pending" })
    expect(record!.sides.map((s) => [s.value, s.events.map((e) => e.stream).sort()])).toEqual([["v2", ["c", "main"]], ["v1", ["b"]]])
  })

  test("three distinct values: every side is listed, and resolve --use <side> picks any of them", async () => {
    const { main, db, wt: { b, c }, t } = await setup(["b", "c"])
    await go(b!, update(t, { title: "from b" }))
    await go(c!, update(t, { title: "from c" }))
    await go(main, update(t, { title: "from main" }))
    await pull(main, "b")
    await pull(main, "c")
    const [record] = await go(main, Effect.flatMap(Conflicts, (x) => x.list({})))
    expect(record!.sides.map((s) => s.value)).toEqual(["from main", "from c", "from b"])
    // A side the record does not have is invalid_input, and nothing is written.
    const before = countRows(db, "events")
    const bad = await go(main, Effect.flip(Effect.flatMap(Conflicts, (x) => x.resolve({ id: record!.id }, 4, false))))
    expect(bad.code).toBe("invalid_input")
    expect(countRows(db, "events")).toBe(before)
    // Side 3 is b's value, neither ours nor theirs.
    const done = await go(main, Effect.flatMap(Conflicts, (x) => x.resolve({ id: record!.id }, 3, false)))
    expect(done.resolutions.map((r) => r.value)).toEqual(["from b"])
    expect(await conflictsIn(main)).toEqual([])
    expect(await go(main, Effect.map(Effect.flatMap(Tracker, (x) => x.find("task", t)), (e) => e.title))).toBe("from b")
  })
})

describe("point 3: knowledge lives in the log", () => {
  const derived = ["heads", "if_version_floors", "conflicts", "stream_knowledge", "epics", "tasks", "subtasks", "dependencies"]

  test("after rebuild from the log alone, conflicts list --all and sync status are what they were, and verify compares the sync tables", async () => {
    const { main, db, wt: { feat, c }, t, epic } = await setup(["feat", "c"])
    const u = await go(main, create("task", epic, "u0"))
    // A pull conflict, a three-sided one, a conflict learnt by an --if-version write, and a resolution.
    await go(main, update(t, { title: "m" }))
    await go(feat!, update(t, { title: "f" }))
    await go(c!, update(t, { title: "c" }))
    await go(main, update(u, { description: "v1" }))
    await go(feat!, update(u, { description: "v3" }))
    await pull(main, "feat")
    await pull(main, "c")
    await go(feat!, Effect.flatMap(versionOf(u), (v) => update(u, { status: "in_progress" }, v)))
    await pull(c!, "main")
    const [first] = await go(c!, Effect.flatMap(Conflicts, (x) => x.list({})))
    await go(c!, Effect.flatMap(Conflicts, (x) => x.resolve({ id: first!.id }, "ours", false)))
    const places = [main, feat!, c!]
    const snapshot = () =>
      Promise.all(places.map(async (p) => ({
        conflicts: await go(p, Effect.flatMap(Conflicts, (x) => x.list({ all: true }))),
        status: await go(p, Effect.flatMap(Sync, (s) => s.status("main")))
      })))
    const before = await snapshot()
    expect(before.flatMap((s) => s.conflicts).length).toBeGreaterThanOrEqual(4)
    expect(before.flatMap((s) => s.conflicts).some((x) => x.sides.length === 3)).toBe(true)

    withDb(db, (d) => {
      for (const table of derived) d.run(`DELETE FROM ${table}`)
    })
    const rebuilt = grove(main, ["rebuild", "--json"])
    expect(rebuilt.exitCode).toBe(0)
    expect(await snapshot()).toEqual(before)
    const verified = grove(main, ["verify", "--json"])
    expect(verified.exitCode).toBe(0)
    expect(verified.json.data.sync.map((x: { table: string; identical: boolean }) => [x.table, x.identical])).toEqual([
      ["stream_knowledge", true],
      ["heads", true],
      ["if_version_floors", true],
      ["conflicts", true],
      ["invariant_conflicts", true],
      ["invariant_cycle_tasks", true]
    ])

    // A conflict record changed behind grove's back is a verify mismatch naming the table; nothing is changed.
    withDb(db, (d) => d.run(`UPDATE conflicts SET theirs = '"forged"' WHERE id = ${first!.id}`))
    const forged = grove(main, ["verify", "--json"])
    expect(forged.exitCode).toBe(1)
    expect(forged.json.error.code).toBe("verify_mismatch")
    expect(forged.stdout + forged.stderr).toContain("conflicts")
    expect(withDb(db, (d) => (d.query(`SELECT theirs FROM conflicts WHERE id = ${first!.id}`).get() as { theirs: string }).theirs)).toBe('"forged"')
  })

  test("sync pull --from a branch that another clone only pulled into, and never wrote on", async () => {
    const repo = newRepo()
    repo.addOrigin()
    const b = repo.addWorktree("b")
    const t = await go(repo.root, Effect.flatMap(create("epic", undefined, "E"), (epic) => create("task", epic, "t0")))
    await go(repo.root, update(t, { title: "from main" }))
    // b only pulls: its knowledge is a knowledge event, which push publishes like any other.
    expect((await pull(b, "main")).scanned).toBe(3)
    expect(grove(repo.root, ["sync", "push", "--json"]).exitCode).toBe(0)

    const other = repo.addClone("other")
    expect(grove(other, ["sync", "fetch", "--json"]).exitCode).toBe(0)
    const pulled = grove(other, ["sync", "pull", "--from", "b", "--json"])
    expect(pulled.exitCode).toBe(0)
    expect(pulled.json.data.scanned).toBe(3)
  })
})

describe("point 4: a new branch starts with what its start point knew, as in git", () => {
  test("git worktree add -b b3 ../b3 agent-b: b3 knows what agent-b knew then, not what agent-b learns or writes later", async () => {
    const repo = newRepo()
    const agentB = repo.addWorktree("agent-b")
    const epic = await go(repo.root, create("epic", undefined, "E"))
    const t = await go(repo.root, create("task", epic, "t0"))
    await go(agentB, update(t, { title: "from b" }))
    // git's reflog keeps seconds: what agent-b wrote in the second b3 is created in is not taken as known.
    await Bun.sleep(1_100)
    const b3 = NodePath.join(repo.base, "b3")
    git(repo.root, "worktree", "add", "-q", "-b", "b3", b3, "agent-b")
    await Bun.sleep(1_100)
    await go(agentB, update(t, { description: "written after the fork" }))
    // b3 overwrites the title it saw from agent-b: no conflict, b3 knew it.
    await go(b3, update(t, { title: "from b3" }))
    const status = await go(b3, Effect.flatMap(Sync, (s) => s.status("agent-b")))
    expect(status.inheritedFrom).toBe("agent-b")
    // The command is a read of its own (sync/Status.ts, no write path): it answers what Sync.status answers.
    expect(grove(b3, ["sync", "status", "--from", "agent-b", "--json"]).json.data).toEqual(status)
    expect(grove(b3, ["sync", "status", "--from", "agent-b"]).stdout).toContain("b3 started with what agent-b knew when it was created")
    const report = await pull(b3, "agent-b")
    expect(report.conflictsCreated).toBe(0)
    // Only agent-b's write after the fork was new to b3.
    expect(report.scanned).toBe(1)
    expect(await conflictsIn(b3, true)).toEqual([])
  }, 20_000) // two 1.1 s waits for git's reflog, and three grove processes

  test("a branch with no known start point starts empty and sync status says so", async () => {
    const repo = newRepo()
    const side = repo.addWorktree("side")
    const t = await go(repo.root, Effect.flatMap(create("epic", undefined, "E"), (epic) => create("task", epic, "t0")))
    // Without a reflog entry that records its creation, nothing is inherited.
    git(side, "reflog", "expire", "--expire=all", "--all")
    await go(side, update(t, { title: "side" }))
    const status = grove(side, ["sync", "status", "--from", "main", "--json"])
    expect(status.json.data.inheritedFrom).toBeNull()
    expect(grove(side, ["sync", "status", "--from", "main"]).stdout).toContain("started empty")
  })
})
