import { Options } from "@effect/cli"
import { Effect, Option } from "effect"
import * as NodeFs from "node:fs"
import { Status } from "../events/Event.ts"
import { InvalidInput } from "../errors/index.ts"

/** Shared flags, so every command spells them the same way. */
export const ifVersion = Options.integer("if-version").pipe(
  Options.withDescription("refuse (version_mismatch) unless the entity is still at version N"),
  Options.optional
)
export const title = Options.text("title").pipe(Options.withDescription("the title"))
export const description = Options.text("description").pipe(Options.withDescription("free text"), Options.optional)
export const status = Options.choice("status", Status.literals).pipe(Options.withDescription("new status"), Options.optional)
export const owner = Options.text("owner").pipe(Options.withDescription("owner (an empty string clears it)"), Options.optional)
export const file = Options.text("file").pipe(Options.withDescription("read JSON lines from a file, or - for stdin"), Options.optional)
export const search = Options.text("search").pipe(
  Options.withDescription("only those whose title, description or notes contain every word (word prefixes, best match first)"),
  Options.optional
)
export const limit = Options.integer("limit").pipe(Options.withDescription("at most N rows"), Options.optional)

export const optional = <A>(o: Option.Option<A>): A | undefined => Option.getOrUndefined(o)

/** An optional integer flag that must not be negative. */
export const nonNegative = (name: string, value: Option.Option<number>) =>
  Option.isSome(value) && value.value < 0
    ? Effect.fail(new InvalidInput({ message: `--${name} must not be negative, got ${value.value}`, details: { flag: name } }))
    : Effect.succeed(optional(value))

/** The text of --file (`-` reads stdin). */
export const readInput = (path: string) =>
  Effect.try({
    try: () => NodeFs.readFileSync(path === "-" ? 0 : path, "utf8"),
    catch: (e) =>
      new InvalidInput({
        message: `cannot read ${path === "-" ? "stdin" : path}: ${e instanceof Error ? e.message : String(e)}`,
        details: { file: path }
      })
  })
