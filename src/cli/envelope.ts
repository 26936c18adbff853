import { encode } from "@toon-format/toon"
import { type ErrorCode, exitCodeOf } from "../errors/codes.ts"
import type { Format } from "./parse.ts"

/**
 * How an outcome is printed in each output mode (docs/cli.md, "Output modes").
 * No Effect here: usage errors, help and --version print through it without
 * loading the services. Output goes through console.log / console.error, not
 * process.stdout: touching process.stdout loads Bun's node:stream layer, about
 * 30 ms of CPU per process (measured: `bun -e 'process.stdout'` against
 * `bun -e 0`). console.log also ends quietly on a closed pipe (`| head`).
 */

export interface Failure {
  readonly code: ErrorCode
  readonly message: string
  readonly details?: unknown
}

/** The machine-readable modes put everything, errors too, on stdout; stderr stays clean. */
const serialise = (format: Exclude<Format, "text">, envelope: Record<string, unknown>) => {
  if (format === "toon") return encode(envelope)
  if (format === "compact") {
    // No metadata, except where the next page starts: a script paging with --compact still needs it.
    const { meta, ...rest } = envelope as { meta?: { pagination?: unknown } }
    return JSON.stringify(meta?.pagination === undefined ? rest : { ...rest, meta: { pagination: meta.pagination } })
  }
  return JSON.stringify(envelope)
}

export const successEnvelope = (command: string, data: unknown, meta: Record<string, unknown>) => ({ ok: true, command, data, meta })

export const failureEnvelope = (command: string, failure: Failure) => ({
  ok: false,
  command,
  error: { code: failure.code, message: failure.message, details: failure.details ?? {} }
})

export const failureText = (failure: Failure) => `grove: ${failure.message} [${failure.code}]`

/** Prints a success: the readable text, or the envelope in the chosen mode. */
export const printSuccess = (format: Format, command: string, data: unknown, meta: Record<string, unknown>, text: string) => {
  console.log(format === "text" ? text : serialise(format, successEnvelope(command, data, meta)))
  process.exitCode = 0
}

/** Prints a failure once: on stderr as one line in text mode, as the envelope on stdout otherwise. */
export const printFailure = (format: Format, command: string, failure: Failure) => {
  if (format === "text") console.error(failureText(failure))
  else console.log(serialise(format, failureEnvelope(command, failure)))
  process.exitCode = exitCodeOf(failure.code)
}
