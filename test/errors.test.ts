import { describe, expect, it } from "bun:test"
import { Glob } from "bun"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { type ErrorCode, errorCodes, exitCodeOf } from "../src/errors/codes.ts"
import { GroveError, isGroveFailure } from "../src/errors/GroveError.ts"

const root = NodePath.resolve(import.meta.dir, "..")

/** The rows of the `| code | exit | meaning |` table in docs/errors.md. */
const documented = (() => {
  const text = NodeFs.readFileSync(NodePath.join(root, "docs", "errors.md"), "utf8")
  const rows: Array<{ code: string; exit: number; meaning: string }> = []
  let inTable = false
  for (const line of text.split("\n")) {
    const cells = line.trim().startsWith("|") ? line.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim()) : null
    if (cells === null) {
      inTable = false
      continue
    }
    if (cells[0] === "code" && cells[1] === "exit") {
      inTable = true
      continue
    }
    if (!inTable || cells.every((c) => /^:?-+:?$/.test(c))) continue
    rows.push({ code: cells[0] ?? "", exit: Number(cells[1]), meaning: cells.slice(2).join("|") })
  }
  return rows
})()

/** Every `GroveError("Tag", "code")` and every literal `code: "..."` in src/**\/*.ts. */
const usedInSource = (() => {
  const classes: Array<{ file: string; tag: string; code: string }> = []
  const literals: Array<{ file: string; code: string }> = []
  for (const file of new Glob("src/**/*.ts").scanSync({ cwd: root })) {
    const text = NodeFs.readFileSync(NodePath.join(root, file), "utf8")
    for (const m of text.matchAll(/GroveError\(\s*"([^"]+)"\s*,\s*"([^"]+)"\s*\)/g)) {
      classes.push({ file, tag: m[1]!, code: m[2]! })
    }
    for (const m of text.matchAll(/\bcode:\s*"([^"]+)"/g)) literals.push({ file, code: m[1]! })
  }
  return { classes, literals }
})()

describe("error code registry", () => {
  it("docs/errors.md documents exactly the codes of src/errors/codes.ts", () => {
    expect(documented.length).toBeGreaterThan(0)
    const docCodes = documented.map((r) => r.code)
    expect(new Set(docCodes).size).toBe(docCodes.length) // no code documented twice
    expect([...docCodes].sort()).toEqual(Object.keys(errorCodes).sort())
  })

  it("docs/errors.md gives every code the same exit status as the registry, and a meaning", () => {
    for (const row of documented) {
      const registered = errorCodes[row.code as ErrorCode]
      expect({ code: row.code, exit: row.exit }).toEqual({ code: row.code, exit: registered.exit })
      expect(row.meaning.length).toBeGreaterThan(10)
    }
  })

  it("exit statuses follow DESIGN.md: 2 for usage errors, 1 for domain errors", () => {
    expect(exitCodeOf("usage")).toBe(2)
    expect(exitCodeOf("invalid_input")).toBe(2)
    for (const [code, { exit }] of Object.entries(errorCodes)) {
      expect([1, 2]).toContain(exit)
      if (code !== "usage" && code !== "invalid_input") expect({ code, exit }).toEqual({ code, exit: 1 })
    }
  })

  it("every GroveError(tag, code) in src uses a registered code, and each tag has one code", () => {
    // The scan must really find the foundation's error classes.
    const found = new Set(usedInSource.classes.map((c) => c.code))
    for (const code of ["not_a_repository", "git_failed", "database_unavailable", "migration_failed", "backup_failed", "invalid_input"]) {
      expect(found).toContain(code)
    }
    for (const c of usedInSource.classes) {
      expect({ ...c, registered: c.code in errorCodes }).toEqual({ ...c, registered: true })
    }
    const byTag = new Map<string, string>()
    for (const c of usedInSource.classes) {
      expect({ tag: c.tag, code: byTag.get(c.tag) ?? c.code }).toEqual({ tag: c.tag, code: c.code })
      byTag.set(c.tag, c.code)
    }
  })

  it("every literal `code: \"...\"` in src names a registered code", () => {
    expect(usedInSource.literals.some((l) => l.code === "usage")).toBe(true)
    for (const l of usedInSource.literals) {
      expect({ ...l, registered: l.code in errorCodes }).toEqual({ ...l, registered: true })
    }
  })

  it("a GroveError class carries its tag, code and details, and is recognised as a coded failure", () => {
    class Sample extends GroveError("Sample", "not_found") {}
    const e = new Sample({ message: "no such thing", details: { id: "x" } })
    expect(e._tag).toBe("Sample")
    expect(e.code).toBe("not_found")
    expect(e.message).toBe("no such thing")
    expect(e.details).toEqual({ id: "x" })
    expect(isGroveFailure(e)).toBe(true)
    expect(isGroveFailure({ code: "no_such_code", message: "x" })).toBe(false)
    expect(isGroveFailure(new Error("plain"))).toBe(false)
  })
})
