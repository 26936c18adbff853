import { Context } from "effect"
import type { Format } from "./parse.ts"

/** What a command produced: the data of the envelope and the readable text. */
export interface Reply {
  readonly data: unknown
  readonly text: string
  /** Envelope metadata beyond version and timing (for example `pagination`). */
  readonly meta?: Record<string, unknown>
}

/** How this invocation prints: readable text, or the envelope as JSON, TOON or compact JSON. */
export class Output extends Context.Tag("grove/Output")<Output, {
  readonly format: Format
  /** Any machine-readable mode: no progress lines, errors on stdout. */
  readonly json: boolean
  readonly version: string
}>() {}

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
