import { Data } from "effect"
import { type ErrorCode, errorCodes } from "./codes.ts"

export type ErrorDetails = Readonly<Record<string, unknown>>

/**
 * Makes a tagged error class bound to one registry code, so every failure a
 * command can produce carries a documented code and shows up by tag in types.
 */
export const GroveError = <const Tag extends string, const Code extends ErrorCode>(tag: Tag, code: Code) =>
  class extends Data.TaggedError(tag)<{ readonly message: string; readonly details?: ErrorDetails }> {
    readonly code: Code = code
  }

/** Anything with a registry code: what the CLI turns into an error envelope. */
export interface GroveFailure {
  readonly code: ErrorCode
  readonly message: string
  readonly details?: ErrorDetails | undefined
}

export const isGroveFailure = (u: unknown): u is GroveFailure =>
  typeof u === "object" && u !== null && "code" in u && typeof u.code === "string" && u.code in errorCodes &&
  "message" in u && typeof u.message === "string"

export class InvalidInput extends GroveError("InvalidInput", "invalid_input") {}
export class NotFound extends GroveError("NotFound", "not_found") {}
