/**
 * Invariant conflicts (issue 12 point 5, docs/sync.md "Invariant conflicts"):
 * two clones of one bare remote break the graph's rules together, which
 * neither could alone: opposite edges (a cycle), a subtask or an edge under a
 * task the other clone deleted (an orphan). Real git, real clones, each with
 * its own database; every grove command is the real CLI in its own process.
 */
import { describe, expect, test } from "bun:test"
import * as NodePath from "node:path"
import { type Clone, git, groveAsync, makeClone, makeWorld, opposedEdges, scratch, sharedTasks, withDb } from "./support/index.ts"
import { connect } from "./support/mcp.ts"

const temp = scratch("all")

/** Each test has its own remote and clones; every CLI call is a process (about 0.3-0.5 s on a 2-core machine). */
const timeout = 400_000

const eventCount = (c: Clone): number =>
  withDb(c.db, (db) => (db.query("SELECT count(*) AS n FROM events").get() as { n: number }).n, { readonly: true })

const isLive = (c: Clone, table: "tasks" | "subtasks", id: string): boolean =>
  withDb(c.db, (db) => db.query(`SELECT 1 FROM ${table} WHERE id = ?`).get(id) !== null, { readonly: true })

const edgeLive = (c: Clone, source: string, target: string): boolean =>
  withDb(c.db, (db) => db.query("SELECT 1 FROM dependencies WHERE source_id = ? AND target_id = ?").get(source, target) !== null, { readonly: true })

const invariantRecords = async (c: Clone, all = false) =>
  ((await c.ok("sync", "conflicts", "list", ...(all ? ["--all"] : []))) as Array<any>).filter((x) => x.kind === "invariant")

const readyIds = async (c: Clone) => ((await c.ok("task", "ready")) as Array<{ id: string }>).map((t) => t.id)

/** sharedTasks, its tasks typed for destructuring. */
const shared = async (a: Clone, b: Clone, titles: ReadonlyArray<string>) => {
  const { epic, tasks } = await sharedTasks(a, b, titles)
  return { epic, tasks: tasks as [string, string, string] }
}

describe("invariant conflicts across clones", () => {
  test("opposite edges in two clones: a cycle record after fetch, ready skips its tasks, verify reports it, drop:edge settles it in both clones", async () => {
    const [alice, bob] = makeWorld(temp, ["alice", "bob"]).clones as [Clone, Clone]
    const { tasks: [a, b, c] } = await shared(alice, bob, ["A", "B", "C"])
    // bob: B depends on A. alice (concurrently): B is done, then A depends on B, so A alone would be ready.
    await bob.ok("dep", "add", b, a)
    await alice.ok("task", "update", b, "--status", "in_progress")
    await alice.ok("task", "update", b, "--status", "done")
    await alice.ok("dep", "add", a, b)
    expect(await readyIds(alice)).toEqual([a, c])
    await alice.ok("sync", "push")
    const bobPush = await bob.ok("sync", "push")
    const fetched = await alice.ok("sync", "fetch")

    // Each clone recorded the cycle once, in its own scope, when its fetch (bob: the push's fetch) brought the other edge.
    expect(bobPush.fetched.invariantConflicts.created).toHaveLength(1)
    expect(fetched.invariantConflicts.created).toEqual(["i1"])
    const [record, ...others] = await invariantRecords(alice)
    expect(others).toEqual([])
    expect(record).toMatchObject({ kind: "invariant", id: "i1", invariant: "cycle", status: "pending", child: null, parent: null })
    expect(record.edges.map((e: any) => `${e.source.id}>${e.target.id}`).sort()).toEqual([`${a}>${b}`, `${b}>${a}`].sort())
    expect(record.events.map((e: any) => [e.role, e.entity, e.event.op]).sort()).toEqual(
      [["edge", `${a}>${b}`, "dependency.added"], ["edge", `${b}>${a}`, "dependency.added"]].sort()
    )
    expect(record.events.find((e: any) => e.entity === `${b}>${a}`).event.actor).toBe("bob")
    expect(record.choices.map((x: any) => x.use).sort()).toEqual([`drop:${a}>${b}`, `drop:${b}>${a}`].sort())
    const shown = await alice.run("sync", "conflicts", "show", "i1")
    expect(shown.json.data).toEqual(record)

    // Never silently accepted: counted as pending by status and session; ready and next do not offer A.
    expect((await alice.ok("sync", "status", "--from", "main")).pendingConflicts).toBe(1)
    expect((await alice.ok("session")).sync.pendingConflicts).toBe(1)
    expect(await readyIds(alice)).toEqual([c])
    expect((await alice.ok("next")).task.id).toBe(c)

    // verify: the tables equal a replay, but the live state breaks a rule.
    const verify = await alice.fails("verify")
    expect(verify.code).toBe("invariant_violated")
    expect(verify.details.findings.map((f: any) => f.code)).toEqual(["dependency_cycle"])

    // Bad choices are typed errors and write nothing; a dry run writes nothing either.
    const before = eventCount(alice)
    const bad = await alice.fails("sync", "resolve", "i1", "--use", `drop:${c}>${a}`)
    expect(bad.code).toBe("choice_not_offered")
    expect(bad.details.choices.map((x: any) => x.use).sort()).toEqual(record.choices.map((x: any) => x.use).sort())
    expect((await alice.fails("sync", "resolve", "i1", "--use", "theirs")).code).toBe("choice_not_offered")
    expect((await alice.fails("sync", "resolve", "i9", "--use", "restore")).code).toBe("not_found")
    const preview = await alice.ok("sync", "resolve", "i1", "--use", `drop:${b}>${a}`, "--dry-run")
    expect(preview.resolutions[0].writes).toEqual([{ op: "conflict.resolved", entity: `${b}>${a}`, field: "presence", value: false }])
    expect(eventCount(alice)).toBe(before)
    expect(edgeLive(alice, b, a)).toBe(true)

    // The MCP tools carry the same records and choices.
    const mcp = await connect(alice.dir, { env: { GROVE_ACTOR: "alice" } })
    try {
      expect(await mcp.data("conflicts_list")).toEqual([record])
      expect(await mcp.data("conflict_show", { id: "i1" })).toEqual(record)
      expect((await mcp.call("resolve", { id: "i1", use: "restore" })).error.code).toBe("choice_not_offered")
      expect((await mcp.data("resolve", { id: "i1", use: `drop:${b}>${a}`, dryRun: true })).resolutions[0].writes).toEqual(preview.resolutions[0].writes)
    } finally {
      await mcp.close()
    }
    expect(eventCount(alice)).toBe(before)

    // Dropping B -> A settles the record by that event; A is ready again; verify is clean.
    await alice.ok("sync", "resolve", "i1", "--use", `drop:${b}>${a}`)
    expect(edgeLive(alice, b, a)).toBe(false)
    expect(await invariantRecords(alice)).toEqual([])
    const [settled] = await invariantRecords(alice, true)
    expect(settled).toMatchObject({ id: "i1", status: "settled", choices: [] })
    expect(settled.settledBy).toMatchObject({ op: "conflict.resolved", actor: "alice" })
    expect(await readyIds(alice)).toEqual([a, c])
    expect((await alice.ok("verify")).findings).toEqual([])
    expect((await alice.fails("sync", "resolve", "i1", "--use", `drop:${b}>${a}`)).code).toBe("nothing_to_resolve")

    // The drop reaches bob: his fetch settles his own record of the cycle.
    await alice.ok("sync", "push")
    const bobFetch = await bob.ok("sync", "fetch")
    expect(bobFetch.invariantConflicts.settled).toEqual(bobPush.fetched.invariantConflicts.created)
    expect(edgeLive(bob, b, a)).toBe(false)
    expect(await invariantRecords(bob)).toEqual([])
    expect((await bob.ok("verify")).findings).toEqual([])
  }, timeout)

  test("a subtask added under a task another clone deleted: an orphan record in each clone, settled by restore in one and delete in the other", async () => {
    const [alice, bob] = makeWorld(temp, ["alice", "bob"]).clones as [Clone, Clone]
    const { tasks: [t] } = await shared(alice, bob, ["Parent"])
    await alice.ok("task", "delete", t)
    const s = (await bob.ok("subtask", "create", "--task", t, "--title", "Child")).id as string
    await alice.ok("sync", "push")
    const bobPush = await bob.ok("sync", "push")
    const fetched = await alice.ok("sync", "fetch")
    expect(fetched.invariantConflicts.created).toEqual(["i1"])
    expect(bobPush.fetched.invariantConflicts.created).toEqual(["i1"])

    for (const [clone, childActor, parentActor] of [[alice, "bob", "alice"], [bob, "bob", "alice"]] as const) {
      const [record, ...others] = await invariantRecords(clone)
      expect(others).toEqual([])
      expect(record).toMatchObject({ invariant: "orphan", child: { kind: "subtask", id: s }, parent: { kind: "task", id: t }, edges: [] })
      expect(record.events.map((e: any) => [e.role, e.entity, e.event.op, e.event.actor])).toEqual([
        ["child", s, "subtask.created", childActor],
        ["parent", t, "task.deleted", parentActor]
      ])
      expect(record.choices.map((x: any) => x.use)).toEqual(["restore", "delete"])
      expect((await clone.ok("sync", "status", "--from", "main")).pendingConflicts).toBe(1)
    }
    expect((await alice.fails("verify")).details.findings.map((f: any) => f.code)).toEqual(["orphan"])
    const before = eventCount(alice)
    expect((await alice.fails("sync", "resolve", "i1", "--use", `drop:${s}>${t}`)).code).toBe("choice_not_offered")
    expect(eventCount(alice)).toBe(before)

    // alice restores the parent: the task is back, the subtask stays, the record is settled.
    const restored = await alice.ok("sync", "resolve", "i1", "--use", "restore")
    expect(restored.resolutions[0].writes[0]).toEqual({ op: "conflict.resolved", entity: t, field: "existence", value: true })
    expect(isLive(alice, "tasks", t)).toBe(true)
    expect(isLive(alice, "subtasks", s)).toBe(true)
    expect(await invariantRecords(alice)).toEqual([])
    expect((await alice.ok("verify")).findings).toEqual([])

    // bob confirms the delete instead: the orphaned subtask goes, as a delete of its task would take it.
    const preview = await bob.ok("sync", "resolve", "i1", "--use", "delete", "--dry-run")
    expect(preview.resolutions[0].writes.map((w: any) => [w.entity, w.value])).toEqual([[t, false], [s, false]])
    expect(isLive(bob, "subtasks", s)).toBe(true)
    await bob.ok("sync", "resolve", "i1", "--use", "delete")
    expect(isLive(bob, "subtasks", s)).toBe(false)
    expect(await invariantRecords(bob)).toEqual([])
    expect((await invariantRecords(bob, true))[0]).toMatchObject({ status: "settled" })
    expect((await bob.ok("verify")).findings).toEqual([])

    // Exchanged, the two resolutions leave both clones with the same sound graph.
    await alice.ok("sync", "push")
    await bob.ok("sync", "push")
    await alice.ok("sync", "fetch")
    const [va, vb] = [await alice.ok("verify"), await bob.ok("verify")]
    expect(va.findings).toEqual([])
    expect(vb.tables.map((x: any) => x.live.checksum)).toEqual(va.tables.map((x: any) => x.live.checksum))
  }, timeout)

  test("an edge to a task another clone deleted: an orphan edge, settled by confirming the delete", async () => {
    const [alice, bob] = makeWorld(temp, ["alice", "bob"]).clones as [Clone, Clone]
    const { tasks: [t1, t2] } = await shared(alice, bob, ["Depends", "Gone"])
    await alice.ok("task", "delete", t2)
    await bob.ok("dep", "add", t1, t2)
    await bob.ok("sync", "push")
    const fetched = await alice.ok("sync", "fetch")
    expect(fetched.invariantConflicts.created).toEqual(["i1"])
    const [record] = await invariantRecords(alice)
    expect(record).toMatchObject({ invariant: "orphan", child: { kind: "dependency", id: `${t1}>${t2}` }, parent: { kind: "task", id: t2 } })
    expect(record.events.map((e: any) => [e.role, e.event.op])).toEqual([["child", "dependency.added"], ["parent", "task.deleted"]])
    const text = await groveAsync(alice.dir, ["sync", "conflicts", "show", "i1"], { GROVE_ACTOR: "alice" })
    expect(text.stdout).toContain(`the dependency ${t1} -> ${t2} is live but its end task ${t2} was deleted`)
    await alice.ok("sync", "resolve", "i1", "--use", "delete")
    expect(edgeLive(alice, t1, t2)).toBe(false)
    expect(isLive(alice, "tasks", t1)).toBe(true)
    expect(await invariantRecords(alice)).toEqual([])
    expect((await alice.ok("verify")).findings).toEqual([])
  }, timeout)

  test("a pull that learns a violation no record names (a database that fetched before grove recorded them) records it in the puller's scope", async () => {
    const [alice, bob] = makeWorld(temp, ["alice", "bob"]).clones as [Clone, Clone]
    const { tasks: [t1, t2] } = await shared(alice, bob, ["Depends", "Gone"])
    await alice.ok("task", "delete", t2)
    await bob.ok("dep", "add", t1, t2)
    await bob.ok("sync", "push")
    await alice.ok("sync", "fetch")
    // As an older grove would have left it: the orphan edge is live and nothing records it.
    withDb(alice.db, (db) => db.run("DELETE FROM invariant_conflicts"))
    const feature = makeClone(NodePath.join(alice.dir, "..", "alice-feature"), "alice")
    git(alice.dir, "worktree", "add", "-q", "-b", "feature", feature.dir)
    const pulled = await feature.ok("sync", "pull", "--from", "main")
    expect(pulled.conflictsCreated).toBe(1)
    const [record, ...others] = await invariantRecords(feature)
    expect(others).toEqual([])
    expect(record).toMatchObject({ id: "i1", invariant: "orphan", scope: { branch: "feature" }, child: { id: `${t1}>${t2}` }, parent: { id: t2 } })
    expect((await feature.ok("sync", "status", "--from", "main")).pendingConflicts).toBe(1)
    // Recorded once, in the scope that found it: main's worktree does not list it, and pulling again adds nothing.
    expect(await invariantRecords(alice)).toEqual([])
    await alice.ok("task", "create", "--epic", (await alice.ok("task", "show", t1)).epicId, "--title", "New on main")
    expect((await feature.ok("sync", "pull", "--from", "main")).conflictsCreated).toBe(0)
    expect(await invariantRecords(feature)).toHaveLength(1)
  }, timeout)

  test("sync replica --renew: a pending cycle stays in its branch's scope under the new replica id, and resolves there", async () => {
    const [alice, bob] = makeWorld(temp, ["alice", "bob"]).clones as [Clone, Clone]
    const { tasks: [a, b] } = await shared(alice, bob, ["A", "B"])
    expect(await opposedEdges(alice, bob, a, b)).toEqual(["i1"])
    await alice.ok("sync", "replica", "--renew")
    const [record, ...others] = await invariantRecords(alice)
    expect(others).toEqual([])
    expect(record).toMatchObject({ id: "i1", invariant: "cycle", status: "pending", scope: { branch: "main" } })
    expect((await alice.ok("sync", "status", "--from", "main")).pendingConflicts).toBe(1)
    await alice.ok("sync", "resolve", "i1", "--use", `drop:${b}>${a}`)
    expect(await invariantRecords(alice)).toEqual([])
  }, timeout)
})
