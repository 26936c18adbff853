import { Command, HelpDoc, ValidationError } from "@effect/cli"
import * as FileSystem from "@effect/platform/FileSystem"
import * as BunPath from "@effect/platform-bun/BunPath"
import { Effect, Layer } from "effect"
import { dep } from "./commands/dep.ts"
import { epic } from "./commands/epic.ts"
import { events } from "./commands/events.ts"
import { init } from "./commands/init.ts"
import { migrate } from "./commands/migrate.ts"
import { agents, mcp } from "./commands/mcp.ts"
import { next } from "./commands/next.ts"
import { plan } from "./commands/plan.ts"
import { session } from "./commands/session.ts"
import { rebuild, verify } from "./commands/replay.ts"
import { subtask } from "./commands/subtask.ts"
import { sync } from "./commands/sync.ts"
import { task } from "./commands/task.ts"
import { failureEnvelope, failureText, Output, stripAnsi } from "./Output.ts"
import { nonInteractiveTerminal } from "./terminal.ts"

export const version = "0.1.0"

const grove = Command.make("grove").pipe(
  Command.withDescription("An event-sourced task graph for people and agents working in parallel git worktrees."),
  Command.withSubcommands([init, session, next, plan, epic, task, subtask, dep, events, sync, migrate, rebuild, verify, mcp, agents])
)

const cli = Command.run(grove, { name: "grove", version })

/** `--json` may stand anywhere before `--`; it is removed before parsing. */
export const splitJsonFlag = (args: ReadonlyArray<string>) => {
  const end = args.indexOf("--")
  const head = end === -1 ? args : args.slice(0, end)
  const json = head.includes("--json")
  return { json, args: [...head.filter((a) => a !== "--json"), ...(end === -1 ? [] : args.slice(end))] }
}

/** A command-tree node as @effect/cli builds it (pinned version): enough to walk names. */
type Node = { readonly _tag: string; readonly name?: string; readonly command?: Node; readonly parent?: Node; readonly children?: ReadonlyArray<Node> }

const nameOf = (node: Node): string | undefined =>
  node._tag === "Map" ? nameOf(node.command!) : node._tag === "Subcommands" ? nameOf(node.parent!) : node.name

const childrenOf = (node: Node): ReadonlyArray<Node> =>
  node._tag === "Map" ? childrenOf(node.command!) : node._tag === "Subcommands" ? node.children ?? [] : []

/** The command an invocation names, as far as its words are real commands (for a usage error's envelope). */
const commandWords = (args: ReadonlyArray<string>) => {
  const words: Array<string> = []
  let node = grove.descriptor as unknown as Node
  for (const a of args) {
    const next = childrenOf(node).find((child) => nameOf(child) === a)
    if (next === undefined) break
    words.push(a)
    node = next
  }
  return words.join(" ") || "grove"
}

/**
 * @effect/cli reports an unknown subcommand as "Invalid subcommand for grove - use one of ...": it names
 * neither the bad word nor, below the top level, the right parent. Name the first word it did not list.
 */
const mismatchMessage = (args: ReadonlyArray<string>, printed: string) => {
  const listed = new Set(Array.from(printed.matchAll(/'([^']+)'/g), (m) => m[1]))
  const at = args.findIndex((a) => !listed.has(a))
  if (at === -1) return printed
  const parent = args.slice(0, at).filter((a) => !a.startsWith("-")).join(" ")
  return parent === ""
    ? `unknown command or flag '${args[at]}': ${printed}`
    : `unknown command or flag '${args[at]}' for grove ${parent}`
}

/** Runs the command line; sets process.exitCode (0 ok, 1 domain error, 2 usage error). */
export const main = (argv: ReadonlyArray<string>) => {
  const { json, args } = splitJsonFlag(argv.slice(2))
  if (json && args.length === 0) {
    // Bare `grove` prints help; a script asking for JSON gets an envelope instead.
    return Effect.sync(() => {
      process.stdout.write(`${failureEnvelope("grove", { code: "usage", message: "no command given (see grove --help)", details: { argv: args } })}\n`)
      process.exitCode = 2
    })
  }
  return cli([...argv.slice(0, 2), ...args]).pipe(
    Effect.catchIf(ValidationError.isValidationError, (error) =>
      Effect.sync(() => {
        const printed = "error" in error ? stripAnsi(HelpDoc.toAnsiText(error.error)).trim() : "invalid command line"
        const message = ValidationError.isCommandMismatch(error) ? mismatchMessage(args, printed) : printed
        const failure = { code: "usage" as const, message: `${message} (see grove --help)`, details: { argv: args } }
        // @effect/cli has already printed its message on stderr; JSON mode adds the envelope on stdout.
        if (json) process.stdout.write(`${failureEnvelope(commandWords(args), failure)}\n`)
        else if (message === "" || message !== printed) process.stderr.write(`${failureText(failure)}\n`)
        process.exitCode = 2
      })),
    Effect.provideService(Output, { json, version }),
    // Only what @effect/cli needs. grove declares no file-typed options and reads its files itself, so the
    // parser's FileSystem is a no-op one: BunContext and BunFileSystem load child_process and node:crypto,
    // about 40 ms of every cold start (measured with bun --cpu-prof).
    Effect.provide(Layer.mergeAll(FileSystem.layerNoop({}), BunPath.layer, nonInteractiveTerminal))
  )
}
