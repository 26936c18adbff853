import { Effect } from "effect"
import { repositoryLayer } from "../../app/AppLayer.ts"
import { Repository } from "../../git/Repository.ts"
import type { Handler } from "../execute.ts"
import { Output } from "../Output.ts"
import { respond } from "../respond.ts"

/** `grove mcp`: stdout belongs to the protocol, so only a start-up failure is printed (on stderr). The SDK loads only here. */
const mcp: Handler = () =>
  Effect.flatMap(Output, ({ version }) =>
    Effect.promise(() =>
      import("../../mcp/Server.ts").then((m) => m.serve(process.cwd(), version)).catch((error: unknown) => {
        process.stderr.write(`grove mcp: ${error instanceof Error ? error.message : String(error)}\n`)
        process.exitCode = 1
      })
    ))

const install: Handler = () =>
  respond(
    "agents install",
    Effect.gen(function*() {
      const { install } = yield* Effect.promise(() => import("../../agents/Instructions.ts"))
      const root = yield* Effect.flatMap(Repository, (r) => Effect.map(r.paths, (p) => p.worktree))
      const r = yield* install(root)
      return { data: r, text: r.files.map((f) => `${f.changed ? "Updated" : "Unchanged"} ${f.path}`).join("\n") }
    }).pipe(Effect.provide(repositoryLayer(process.cwd())))
  )

const print: Handler = () =>
  respond(
    "agents print",
    Effect.map(Effect.promise(() => import("../../agents/Instructions.ts")), ({ section }) => ({ data: { section }, text: section }))
  )

export const handlers: Record<string, Handler> = { mcp, "agents install": install, "agents print": print }
