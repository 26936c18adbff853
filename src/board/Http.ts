import { Schema } from "effect"
import { type ErrorCode } from "../errors/codes.ts"
import { GroveError, type GroveFailure, InvalidInput } from "../errors/index.ts"

export class UnknownRoute extends GroveError("UnknownRoute", "unknown_route") {}
export class BodyTooLarge extends GroveError("BodyTooLarge", "body_too_large") {}

/** HTTP status of each code a board request can fail with; anything else is a 500. */
const httpStatus: Partial<Record<ErrorCode, number>> = {
  invalid_input: 400,
  token_required: 401,
  host_rejected: 403,
  origin_rejected: 403,
  not_found: 404,
  unknown_route: 404,
  version_mismatch: 409,
  claim_lost: 409,
  invalid_transition: 409,
  dependency_not_done: 409,
  dependency_cycle: 409,
  nothing_to_resolve: 409,
  not_owner: 409,
  expect_mismatch: 409,
  body_too_large: 413,
  database_busy: 503
}

/**
 * Every response: never cached (it holds live state), never framed, and the
 * Referer never carries the token of the address bar anywhere. There is no
 * CORS header at all: other origins cannot read a response.
 */
export const baseHeaders = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "content-security-policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
} as const

export const json = (data: unknown) => jsonText(JSON.stringify({ ok: true, data }))

/** A success answer whose JSON text is already made. */
export const jsonText = (text: string) => new Response(text, { headers: { ...baseHeaders, "content-type": "application/json" } })

export const failure = (f: GroveFailure) =>
  new Response(
    JSON.stringify({ ok: false, error: { code: f.code, message: f.message, details: f.details ?? {} } }),
    { status: httpStatus[f.code] ?? 500, headers: { ...baseHeaders, "content-type": "application/json" } }
  )

/** Request bodies are small JSON objects; this bounds what a request can make the board read. */
export const maxBodyBytes = 4096

/**
 * Reads and decodes a JSON body with `schema`, at most `maxBodyBytes`: a
 * declared length over it is refused before reading, a streamed body is cut
 * off as soon as it passes it.
 */
export const readBody = async <A, I>(request: Request, schema: Schema.Schema<A, I>): Promise<A | GroveFailure> => {
  const declared = Number(request.headers.get("content-length") ?? "0")
  const tooLarge = new BodyTooLarge({ message: `request body over ${maxBodyBytes} bytes`, details: { limit: maxBodyBytes } })
  if (declared > maxBodyBytes) return tooLarge
  const chunks: Array<Uint8Array> = []
  let size = 0
  if (request.body !== null) {
    for await (const chunk of request.body) {
      size += chunk.byteLength
      if (size > maxBodyBytes) return tooLarge
      chunks.push(chunk)
    }
  }
  const text = Buffer.concat(chunks).toString("utf8")
  let parsed: unknown
  try {
    parsed = JSON.parse(text === "" ? "{}" : text)
  } catch {
    return new InvalidInput({ message: "the request body is not JSON", details: {} })
  }
  const decoded = Schema.decodeUnknownEither(schema, { onExcessProperty: "error" })(parsed)
  return decoded._tag === "Right"
    ? decoded.right
    : new InvalidInput({ message: `bad request body: ${decoded.left.message}`, details: {} })
}
