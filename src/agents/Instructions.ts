import { Effect } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { GroveError } from "../errors/index.ts"

export class AgentsMarkersInvalid extends GroveError("AgentsMarkersInvalid", "agents_markers_invalid") {}
export class AgentsWriteFailed extends GroveError("AgentsWriteFailed", "agents_write_failed") {}

export const beginMarker = "<!-- grove:begin (written by `grove agents install`; edits inside are replaced) -->"
export const endMarker = "<!-- grove:end -->"

/** The MCP client configuration that starts grove's server (docs/agents.md shows the same). */
export const mcpConfig = { mcpServers: { grove: { command: "grove", args: ["mcp"] } } }

/** The section `grove agents install` keeps in AGENTS.md (and CLAUDE.md): the loop, the codes to handle, the MCP snippet. */
export const section = [
  beginMarker,
  "## Tasks: grove",
  "",
  "Work is tracked with grove (task graph shared by every worktree). Use the MCP tools (names in brackets) or the CLI with `--json`.",
  "",
  "1. `grove session` [`session`]: where you are, your claims, what other worktrees do.",
  "2. `grove next --claim` [`next` with `claim: true`]: your task in progress, else the ready task that unblocks most, claimed atomically.",
  "3. While working: `grove task note ID TEXT` [`task_note`] for findings a successor needs.",
  "4. `grove task done ID` [`task_done`]: returns what it unblocked and the next candidate. Then back to 2.",
  "",
  "Plan a whole epic with `grove plan apply FILE` [`plan_apply`]. Learn other branches' work with `grove sync pull` [`sync_pull`]; settle conflicts with `grove sync resolve` [`resolve`, `dryRun` first].",
  "",
  "Error codes to handle (`error.code`):",
  "- `claim_lost`: another agent holds it; call next again.",
  "- `version_mismatch`: changed since you read it; show it again, then retry with the new version.",
  "- `not_owner`: claimed by `details.owner`; leave it.",
  "- `dependency_not_done`: its dependencies come first; next only picks ready work.",
  "- `invalid_input`, `unknown_tool`: fix the arguments; nothing was written.",
  "- `database_busy`: retry shortly.",
  "",
  "MCP server (run inside the worktree):",
  "",
  "```json",
  JSON.stringify(mcpConfig),
  "```",
  endMarker
].join("\n")

const count = (text: string, marker: string) => text.split(marker).length - 1

/** `text` with grove's section put in (between existing markers, else appended); everything outside the markers kept byte for byte. */
const withSection = (path: string, text: string) => {
  const begins = count(text, beginMarker)
  const ends = count(text, endMarker)
  if (begins === 0 && ends === 0) return Effect.succeed(text === "" ? `${section}\n` : `${text}${text.endsWith("\n") ? "" : "\n"}\n${section}\n`)
  const begin = text.indexOf(beginMarker)
  const end = text.indexOf(endMarker)
  if (begins !== 1 || ends !== 1 || end < begin) {
    return Effect.fail(
      new AgentsMarkersInvalid({
        message: `${path} holds grove's markers ${begins} and ${ends} times${end < begin ? " (end before begin)" : ""}; fix them by hand, nothing was written`,
        details: { path, begins, ends }
      })
    )
  }
  return Effect.succeed(text.slice(0, begin) + section + text.slice(end + endMarker.length))
}

const io = <A>(path: string, f: () => A) =>
  Effect.try({
    try: f,
    catch: (e) => new AgentsWriteFailed({ message: `cannot update ${path}: ${e instanceof Error ? e.message : String(e)}`, details: { path } })
  })

/**
 * Writes or updates the section in `root`/AGENTS.md, and in CLAUDE.md when it
 * exists. Every file is checked before any is written; a second run changes nothing.
 */
export const install = (root: string) =>
  Effect.gen(function*() {
    const agents = NodePath.join(root, "AGENTS.md")
    const claude = NodePath.join(root, "CLAUDE.md")
    const paths = [agents, ...(NodeFs.existsSync(claude) ? [claude] : [])]
    const plans = yield* Effect.forEach(paths, (path) =>
      Effect.gen(function*() {
        const before = yield* io(path, () => (NodeFs.existsSync(path) ? NodeFs.readFileSync(path, "utf8") : ""))
        return { path, before, after: yield* withSection(path, before) }
      }))
    for (const p of plans) if (p.after !== p.before) yield* io(p.path, () => NodeFs.writeFileSync(p.path, p.after))
    return { files: plans.map((p) => ({ path: p.path, changed: p.after !== p.before })) }
  })
