/**
 * `grove agents install` / `print` (issue 17) on a real repository: the
 * section lives between markers, a second run changes nothing, text outside
 * the markers is never touched, CLAUDE.md is updated only when it exists, and
 * broken markers refuse without writing anything.
 */
import { describe, expect, it } from "bun:test"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { beginMarker, endMarker, section } from "../src/agents/Instructions.ts"
import { grove, isolateEnv, scratch } from "./support/index.ts"

isolateEnv()
const temp = scratch("each")
const read = (path: string) => NodeFs.readFileSync(path, "utf8")

describe("grove agents", () => {
  it("install creates AGENTS.md with the section; a second run changes nothing; no CLAUDE.md appears", () => {
    const { root } = temp.repo()
    const first = grove(root, ["agents", "install", "--json"])
    expect({ exit: first.exitCode, files: first.json?.data.files }).toEqual({ exit: 0, files: [{ path: NodePath.join(root, "AGENTS.md"), changed: true }] })
    const written = read(NodePath.join(root, "AGENTS.md"))
    expect(written).toBe(`${section}\n`)
    const second = grove(root, ["agents", "install", "--json"])
    expect(second.json?.data.files).toEqual([{ path: NodePath.join(root, "AGENTS.md"), changed: false }])
    expect(read(NodePath.join(root, "AGENTS.md"))).toBe(written)
    expect(NodeFs.existsSync(NodePath.join(root, "CLAUDE.md"))).toBe(false)
  }, 60_000)

  it("install replaces only what is between the markers, in AGENTS.md and an existing CLAUDE.md, byte for byte outside", () => {
    const { root } = temp.repo()
    const before = "# Project\n\nOur rules.\n\n"
    const after = "\n\n## Footer\nkeep me  \n"
    NodeFs.writeFileSync(NodePath.join(root, "AGENTS.md"), `${before}${beginMarker}\nold grove text\n${endMarker}${after}`)
    NodeFs.writeFileSync(NodePath.join(root, "CLAUDE.md"), "Claude notes without a section")
    expect(grove(root, ["agents", "install"]).exitCode).toBe(0)
    expect(read(NodePath.join(root, "AGENTS.md"))).toBe(`${before}${section}${after}`)
    expect(read(NodePath.join(root, "CLAUDE.md"))).toBe(`Claude notes without a section\n\n${section}\n`)
  }, 60_000)

  it("install refuses a begin marker without its end (agents_markers_invalid) and writes nothing to either file", () => {
    const { root } = temp.repo()
    const broken = `intro\n${beginMarker}\nhalf a section\n`
    NodeFs.writeFileSync(NodePath.join(root, "CLAUDE.md"), broken)
    const r = grove(root, ["agents", "install", "--json"])
    expect({ exit: r.exitCode, code: r.json?.error.code }).toEqual({ exit: 1, code: "agents_markers_invalid" })
    expect(read(NodePath.join(root, "CLAUDE.md"))).toBe(broken)
    expect(NodeFs.existsSync(NodePath.join(root, "AGENTS.md"))).toBe(false)
  }, 60_000)

  it("print shows the section with the MCP snippet and writes nothing", () => {
    const { root } = temp.repo()
    const r = grove(root, ["agents", "print"])
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toContain('{"mcpServers":{"grove":{"command":"grove","args":["mcp"]}}}')
    expect(r.stdout).toContain("claim_lost")
    expect(NodeFs.existsSync(NodePath.join(root, "AGENTS.md"))).toBe(false)
  }, 60_000)
})
