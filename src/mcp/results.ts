import { Cause, Exit, Option } from "effect"
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js"
import { type GroveFailure, isGroveFailure } from "../errors/index.ts"

/**
 * A tool's answer in the CLI's `--json` envelope shape: `{ok, command, data}`
 * or `{ok: false, command, error: {code, message, details}}`, as structured
 * content and as its JSON text (for clients that read only text).
 */
const result = (structured: Record<string, unknown>, isError: boolean): CallToolResult => ({
  content: [{ type: "text", text: JSON.stringify(structured) }],
  structuredContent: structured,
  ...(isError ? { isError: true } : {})
})

export const success = (command: string, data: unknown) => result({ ok: true, command, data }, false)

export const failure = (command: string, f: GroveFailure) =>
  result({ ok: false, command, error: { code: f.code, message: f.message, details: f.details ?? {} } }, true)

/** The coded failure of an exit; a defect (a bug) answers `internal`, like the CLI. */
export const failureOf = (exit: Exit.Exit<unknown, unknown>): GroveFailure | undefined => {
  if (Exit.isSuccess(exit)) return undefined
  const error = Cause.failureOption(exit.cause)
  if (Option.isSome(error) && isGroveFailure(error.value)) return error.value
  const defect = Cause.squash(exit.cause)
  return { code: "internal", message: `internal error: ${defect instanceof Error ? defect.message : String(defect)}`, details: {} }
}
