import { Command } from "@effect/cli"
import { Effect } from "effect"
import { repositoryLayer } from "../../app/AppLayer.ts"
import { Repository } from "../../git/Repository.ts"
import { respond } from "../respond.ts"
import { Output } from "../Output.ts"

/** `grove mcp`: stdout belongs to the protocol, so only a start-up failure is printed (on stderr). The SDK loads only here. */
export const mcp = Command.make("mcp", {}, () =>
  Effect.flatMap(Output, ({ version }) =>
    Effect.promise(() =>
      import("../../mcp/Server.ts").then((m) => m.serve(process.cwd(), version)).catch((error: unknown) => {
        process.stderr.write(`grove mcp: ${error instanceof Error ? error.message : String(error)}\n`)
        process.exitCode = 1
      })
    ))).pipe(Command.withDescription("Serve the agent loop as Model Context Protocol tools and resources on stdio (docs/agents.md)."))

const worktreeRoot = Effect.flatMap(Repository, (r) => Effect.map(r.paths, (p) => p.worktree))

const install = Command.make("install", {}, () =>
  respond(
    "agents install",
    Effect.gen(function*() {
      const { install } = yield* Effect.promise(() => import("../../agents/Instructions.ts"))
      const r = yield* install(yield* worktreeRoot)
      return { data: r, text: r.files.map((f) => `${f.changed ? "Updated" : "Unchanged"} ${f.path}`).join("\n") }
    }).pipe(Effect.provide(repositoryLayer(process.cwd())))
  )).pipe(Command.withDescription("Write or update grove's section (the loop, error codes, MCP snippet) between markers in AGENTS.md, and CLAUDE.md when it exists."))

const print = Command.make("print", {}, () =>
  respond(
    "agents print",
    Effect.map(Effect.promise(() => import("../../agents/Instructions.ts")), ({ section }) => ({ data: { section }, text: section }))
  )).pipe(Command.withDescription("Print the section agents install writes, writing nothing."))

export const agents = Command.make("agents").pipe(
  Command.withDescription("Instructions for coding agents in AGENTS.md / CLAUDE.md."),
  Command.withSubcommands([install, print])
)
