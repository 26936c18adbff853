import { Context } from "effect"
import { exitCodeOf, type GroveFailure } from "../errors/index.ts"

/** What a command produced: the data of the JSON envelope and the readable text. */
export interface Reply {
  readonly data: unknown
  readonly text: string
}

/** How this invocation prints: one JSON envelope (`--json`) or readable text. */
export class Output extends Context.Tag("grove/Output")<Output, {
  readonly json: boolean
  readonly version: string
}>() {}

export const successEnvelope = (command: string, data: unknown, meta: Record<string, unknown>) =>
  JSON.stringify({ ok: true, command, data, meta })

export const failureEnvelope = (command: string, failure: GroveFailure) =>
  JSON.stringify({
    ok: false,
    command,
    error: { code: failure.code, message: failure.message, details: failure.details ?? {} }
  })

export const failureText = (failure: GroveFailure) => `grove: ${failure.message} [${failure.code}]`

export const failureExitCode = (failure: GroveFailure) => exitCodeOf(failure.code)

// eslint-disable-next-line no-control-regex
export const stripAnsi = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, "")

/**
 * A progress line for long work (rebuild, big pulls): on a terminal only, and
 * never in JSON mode. Returns the reporter and a function that ends the line.
 */
export const progressLine = (json: boolean, label: string) => {
  if (json || process.stderr.isTTY !== true) return { report: undefined, end: () => {} }
  return {
    report: (n: number) => void process.stderr.write(`\r${label} ${n}`),
    end: () => void process.stderr.write("\n")
  }
}
