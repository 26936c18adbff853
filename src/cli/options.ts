import { Effect } from "effect"
import * as NodeFs from "node:fs"
import { InvalidInput } from "../errors/index.ts"
import { parseDuration } from "../tracker/Acting.ts"
import type { Input } from "./spec.ts"

/** An optional integer flag that must not be negative. */
export const nonNegative = (name: string, value: number | undefined) =>
  value !== undefined && value < 0
    ? Effect.fail(new InvalidInput({ message: `--${name} must not be negative, got ${value}`, details: { flag: name } }))
    : Effect.succeed(value)

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

/** --lease as milliseconds, if given. */
export const leaseOf = (o: Input) => {
  const text = o.text("lease")
  return text === undefined ? Effect.succeed(undefined) : parseDuration(text)
}
