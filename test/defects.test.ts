import { describe, expect, it } from "bun:test"
import { countRows, grove, scratch, withDb } from "./support/index.ts"

const newRepo = scratch("all").repo

/**
 * A bug is not a database error: only SQLite's own failures become database_error;
 * anything else thrown inside database work is a defect, answered as `internal`.
 */
describe("defects", () => {
  // A stored frontier that is not JSON makes reading knowledge throw a JSON error (a bug's shape, not SQLite's).
  const brokenKnowledge = () => {
    const r = newRepo()
    const feature = r.addWorktree("feature")
    const env = { GROVE_ACTOR: "tester" }
    expect(grove(r.root, ["epic", "create", "--title", "E", "--json"], { env }).exitCode).toBe(0)
    expect(grove(feature, ["sync", "pull", "--from", "main", "--json"], { env }).exitCode).toBe(0)
    withDb(r.db, (db) => db.run("UPDATE frontiers SET vector = 'not json'"))
    return { db: r.db, feature, env }
  }

  it("a defect inside database work answers `internal` (exit 1), not database_error, and writes nothing", () => {
    const { db, feature, env } = brokenKnowledge()
    const before = countRows(db, "events")
    const r = grove(feature, ["epic", "create", "--title", "F", "--json"], { env })
    expect({ exitCode: r.exitCode, code: r.json?.error?.code }).toEqual({ exitCode: 1, code: "internal" })
    expect(r.stderr).not.toContain("    at ")
    expect(countRows(db, "events")).toBe(before)
  })

  it("GROVE_DEBUG=1 prints the defect's stack on stderr; the envelope is the same", () => {
    const { feature, env } = brokenKnowledge()
    const r = grove(feature, ["sync", "status", "--from", "main", "--json"], { env: { ...env, GROVE_DEBUG: "1" } })
    expect({ exitCode: r.exitCode, code: r.json?.error?.code }).toEqual({ exitCode: 1, code: "internal" })
    expect(r.stderr).toContain("    at ")
  })
})
