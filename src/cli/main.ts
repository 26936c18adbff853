import { Command, HelpDoc, ValidationError } from "@effect/cli"
import { BunContext } from "@effect/platform-bun"
import { Effect } from "effect"
import { init } from "./commands/init.ts"
import { migrate } from "./commands/migrate.ts"
import { failureEnvelope, failureText, Output, stripAnsi } from "./Output.ts"

export const version = "0.1.0"

const grove = Command.make("grove").pipe(
  Command.withDescription("An event-sourced task graph for people and agents working in parallel git worktrees."),
  Command.withSubcommands([init, migrate])
)

const cli = Command.run(grove, { name: "grove", version })

/** `--json` may stand anywhere before `--`; it is removed before parsing. */
export const splitJsonFlag = (args: ReadonlyArray<string>) => {
  const end = args.indexOf("--")
  const head = end === -1 ? args : args.slice(0, end)
  const json = head.includes("--json")
  return { json, args: [...head.filter((a) => a !== "--json"), ...(end === -1 ? [] : args.slice(end))] }
}

/** The command words of an invocation, for the envelope of a usage error. */
const commandWords = (args: ReadonlyArray<string>) => {
  const words: Array<string> = []
  for (const a of args) {
    if (a.startsWith("-") || words.length === 3) break
    words.push(a)
  }
  return words.join(" ") || "grove"
}

/** Runs the command line; sets process.exitCode (0 ok, 1 domain error, 2 usage error). */
export const main = (argv: ReadonlyArray<string>) => {
  const { json, args } = splitJsonFlag(argv.slice(2))
  return cli([...argv.slice(0, 2), ...args]).pipe(
    Effect.catchIf(ValidationError.isValidationError, (error) =>
      Effect.sync(() => {
        const message = "error" in error ? stripAnsi(HelpDoc.toAnsiText(error.error)).trim() : "invalid command line"
        const failure = { code: "usage" as const, message: `${message} (see grove --help)`, details: { argv: args } }
        // @effect/cli has already printed the message on stderr; JSON mode adds the envelope on stdout.
        if (json) process.stdout.write(`${failureEnvelope(commandWords(args), failure)}\n`)
        else if (message === "") process.stderr.write(`${failureText(failure)}\n`)
        process.exitCode = 2
      })),
    Effect.provideService(Output, { json, version }),
    Effect.provide(BunContext.layer)
  )
}
