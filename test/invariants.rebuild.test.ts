/**
 * Invariant records follow the log (issue 12 point 5, docs/sync.md "Invariant
 * conflicts", Recording): each check's outcome rides a knowledge event, so a
 * rebuild from the log alone gives the same records, ids, scopes, events and
 * settlement, and verify compares them. Real clones of one bare remote, real
 * CLI processes.
 */
import { describe, expect, test } from "bun:test"
import { type Clone, makeWorld, opposedEdges, scratch, sharedTasks, withDb } from "./support/index.ts"

const temp = scratch("all")
const timeout = 400_000

const rows = (c: Clone, table: "invariant_conflicts" | "invariant_cycle_tasks") =>
  withDb(c.db, (db) => db.query(`SELECT * FROM ${table} ORDER BY 1, 2`).all(), { readonly: true })

/** A cycle that alice settles by dropping an edge, then an orphan left pending: one record of each status. */
const cycleThenOrphan = async () => {
  const [alice, bob] = makeWorld(temp, ["alice", "bob"]).clones as [Clone, Clone]
  const [a, b, c] = (await sharedTasks(alice, bob, ["A", "B", "C"])).tasks as [string, string, string]
  expect(await opposedEdges(alice, bob, a, b)).toEqual(["i1"])
  await alice.ok("sync", "resolve", "i1", "--use", `drop:${b}>${a}`)
  // bob adds a subtask under C, which alice deletes: an orphan, pending.
  await bob.ok("subtask", "create", "--task", c, "--title", "Child")
  await alice.ok("task", "delete", c)
  await bob.ok("sync", "push")
  expect((await alice.ok("sync", "fetch")).invariantConflicts.created).toEqual(["i2"])
  return { alice, bob }
}

describe("invariant records are a function of the log", () => {
  test("rebuild from the log alone recreates invariant records identically: conflicts list --all, sync status and the tables are as before", async () => {
    const { alice } = await cycleThenOrphan()
    const listed = await alice.ok("sync", "conflicts", "list", "--all")
    const status = await alice.ok("sync", "status", "--from", "main")
    const records = rows(alice, "invariant_conflicts")
    const cycleTasks = rows(alice, "invariant_cycle_tasks")
    expect(listed.filter((x: any) => x.kind === "invariant").map((x: any) => [x.id, x.invariant, x.status])).toEqual([["i1", "cycle", "settled"], ["i2", "orphan", "pending"]])
    expect(status.pendingConflicts).toBe(1)

    // Drop every derived record, then rebuild from the log alone.
    withDb(alice.db, (db) => {
      for (const t of ["invariant_cycle_tasks", "invariant_conflicts", "conflicts", "heads", "if_version_floors"]) db.run(`DELETE FROM ${t}`)
    })
    await alice.ok("rebuild")
    expect(rows(alice, "invariant_conflicts")).toEqual(records)
    expect(rows(alice, "invariant_cycle_tasks")).toEqual(cycleTasks)
    expect(await alice.ok("sync", "conflicts", "list", "--all")).toEqual(listed)
    expect(await alice.ok("sync", "status", "--from", "main")).toEqual(status)
    // The orphan still holds, so verify fails on the rule, not on a mismatch of the tables.
    const verify = await alice.fails("verify")
    expect(verify.code).toBe("invariant_violated")
    expect(verify.details.sync.filter((t: any) => !t.identical)).toEqual([])
    expect((await alice.ok("sync", "resolve", "i2", "--use", "delete")).resolutions[0].conflict).toBe("i2")
    expect((await alice.ok("verify")).identical).toBe(true)
  }, timeout)

  test("verify reports a tampered invariant record as verify_mismatch naming invariant_conflicts; rebuild restores it", async () => {
    const { alice } = await cycleThenOrphan()
    const records = rows(alice, "invariant_conflicts")
    withDb(alice.db, (db) => db.run("UPDATE invariant_conflicts SET status = 'settled', settled_at = 1 WHERE id = 2"))
    const verify = await alice.fails("verify")
    expect(verify.code).toBe("verify_mismatch")
    expect(verify.details.sync.filter((t: any) => !t.identical).map((t: any) => t.table)).toEqual(["invariant_conflicts"])
    await alice.ok("rebuild")
    expect(rows(alice, "invariant_conflicts")).toEqual(records)
  }, timeout)
})
