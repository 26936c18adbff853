import { Either, Schema } from "effect"
import { formatParseError } from "../events/operations.ts"

/**
 * A bundle: a run of consecutive events of one stream (one branch of one
 * replica), as a clone publishes them under its grove ref. Events keep their
 * ids, clocks and causal context; positions in other streams replace local
 * sequence numbers, so any clone can place them. Bundles are content-addressed:
 * a bundle's name ends with the sha256 of its bytes.
 */
const Pos = Schema.Int.pipe(Schema.positive())

/** A frontier in portable form: [index into `streams`, highest position known]. */
const PortableFrontier = Schema.Array(Schema.Tuple(Schema.Int.pipe(Schema.nonNegative()), Pos))
export type PortableFrontier = typeof PortableFrontier.Type

export const BundleEvent = Schema.Struct({
  id: Schema.String,
  pos: Pos,
  /** Index into `transactions`: the git context the event was written with. */
  tx: Schema.Int.pipe(Schema.nonNegative()),
  clock: Schema.Int.pipe(Schema.nonNegative()),
  kind: Schema.String,
  entity: Schema.String,
  op: Schema.String,
  /** The payload's JSON text, as stored: its own Schema is checked on import, and a failure is quarantined. */
  payload: Schema.String,
  payloadVersion: Schema.Int,
  cause: Schema.NullOr(Schema.String),
  ifVersion: Schema.Boolean,
  /** What the stream had pulled when the event was written. */
  frontier: PortableFrontier,
  /** For an --if-version write: what its writer's database held (rule (d)). */
  seen: Schema.NullOr(PortableFrontier),
  /**
   * The event's link in its stream's hash chain (src/events/chain.ts), as its
   * writer computed it; absent in bundles pushed before the chain existed.
   */
  digest: Schema.optional(Schema.String)
})
export type BundleEvent = typeof BundleEvent.Type

export const BundleTransaction = Schema.Struct({
  worktree: Schema.String,
  head: Schema.NullOr(Schema.String),
  actor: Schema.String,
  at: Schema.Int
})
export type BundleTransaction = typeof BundleTransaction.Type

/** A stream as every replica names it. */
export const StreamKey = Schema.Tuple(Schema.String, Schema.String)
export type StreamKey = typeof StreamKey.Type

export const Bundle = Schema.Struct({
  format: Schema.Literal(1),
  replica: Schema.String,
  branch: Schema.String,
  from: Pos,
  to: Pos,
  /** The streams frontiers point into: [replica, branch]. */
  streams: Schema.Array(StreamKey),
  transactions: Schema.Array(BundleTransaction),
  events: Schema.Array(BundleEvent),
  /**
   * The replica's ed25519 public key and its signature of the checkpoint at
   * `to` (src/remote/Signing.ts), both base64; absent in bundles of replicas
   * that never signed (pushed before signing existed).
   */
  signature: Schema.optional(Schema.Struct({ key: Schema.String, sig: Schema.String }))
})
export type Bundle = typeof Bundle.Type

const decodeBundle = Schema.decodeUnknownEither(Schema.parseJson(Bundle))

const hex = (bytes: ArrayBuffer | Uint8Array) => Buffer.from(bytes as Uint8Array).toString("hex")
export const sha256 = (bytes: Uint8Array): string => hex(new Bun.CryptoHasher("sha256").update(bytes).digest() as Uint8Array)

const pad = (n: number) => String(n).padStart(12, "0")

/** `<from>-<to>-<sha256>`: positions first, so names sort in stream order. */
const namePattern = /^(\d{12})-(\d{12})-([0-9a-f]{64})$/

export interface BundleName {
  readonly from: number
  readonly to: number
  readonly hash: string
}

export const parseBundleName = (name: string): BundleName | undefined => {
  const m = namePattern.exec(name)
  return m === null ? undefined : { from: Number(m[1]), to: Number(m[2]), hash: m[3]! }
}

/** The bundle's bytes and its content-addressed name. */
export const encodeBundle = (bundle: Bundle): { readonly name: string; readonly bytes: Uint8Array } => {
  const bytes = new TextEncoder().encode(JSON.stringify(bundle))
  return { name: `${pad(bundle.from)}-${pad(bundle.to)}-${sha256(bytes)}`, bytes }
}

/**
 * Checks a bundle read from a ref against its name and its stream: it must
 * hash to its name, decode, belong to the ref's stream and hold exactly the
 * positions its name says. Left: why not.
 */
export const openBundle = (
  name: string,
  bytes: Uint8Array,
  stream: { readonly replica: string; readonly branch: string }
): Either.Either<Bundle, string> => {
  const parsed = parseBundleName(name)
  if (parsed === undefined) return Either.left(`${name} is not a bundle name (<from>-<to>-<sha256>)`)
  const actual = sha256(bytes)
  if (actual !== parsed.hash) return Either.left(`bundle ${name} hashes to ${actual}, not to its name`)
  return decodeBundle(new TextDecoder().decode(bytes)).pipe(
    Either.mapLeft((e) => `bundle ${name} is not a grove bundle: ${formatParseError(e)}`),
    Either.flatMap((b) => {
      if (b.replica !== stream.replica || b.branch !== stream.branch) {
        return Either.left(`bundle ${name} holds stream ${b.branch}@${b.replica}, not its ref's ${stream.branch}@${stream.replica}`)
      }
      const contiguous = b.events.every((e, i) => e.pos === b.from + i && e.tx < b.transactions.length &&
        e.frontier.every(([s]) => s < b.streams.length) && (e.seen ?? []).every(([s]) => s < b.streams.length))
      if (b.from !== parsed.from || b.to !== parsed.to || b.events.length !== b.to - b.from + 1 || !contiguous) {
        return Either.left(`bundle ${name} does not hold exactly positions ${parsed.from}-${parsed.to} with valid references`)
      }
      return Either.right(b)
    })
  )
}
