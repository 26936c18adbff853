import { Either, ParseResult, Schema } from "effect"
import { type EntityKind, InvalidPayload, NodeRef, Status, Title } from "./Event.ts"
import { InvariantOutcome } from "../projections/Invariants.ts"
import { compileGuard } from "./payloadGuard.ts"
import { byField, creates, deletes, presence, setsFields, settles, type Write } from "./writes.ts"

const Edge = Schema.Struct({ source: NodeRef, target: NodeRef })
const Fields = {
  title: Schema.optional(Title),
  description: Schema.optional(Schema.String),
  status: Schema.optional(Status)
}
const WorkFields = { ...Fields, owner: Schema.optional(Schema.NullOr(Schema.String)) }
/** A payload that sets no fields: an empty JSON object (Struct({}) would accept any non-null value, even 3 or "x"). */
const Empty = Schema.Record({ key: Schema.String, value: Schema.Never })

const Lease = Schema.Struct({ owner: Schema.String, lease: Schema.Int.pipe(Schema.positive()) })
const Note = Schema.Struct({ text: Schema.Trim.pipe(Schema.minLength(1, { message: () => "a note must not be empty" })), author: Schema.String })
/** Notes append, leases and plans annotate: they write no field that sync compares. */
const none = (): Array<Write> => []

/** One operation: its payload Schema and the fields it writes (what sync compares) on an entity of `kind`. */
interface Definition<A, I> {
  readonly payload: Schema.Schema<A, I>
  readonly writes: (payload: A, kind: EntityKind) => Array<Write>
}

const define = <A, I>(payload: Schema.Schema<A, I>, writes: (payload: A, kind: EntityKind) => Array<Write>): Definition<A, I> => ({
  payload,
  writes
})

/**
 * Every operation, defined once. A `.created` payload sets every field;
 * `.updated` only the ones it changes. How an operation changes the live
 * tables is its materializer (src/projections/materializers.ts), a record the
 * compiler requires to have one entry per key of this table; restores and
 * conflict bases are folds of `writes`.
 */
export const operations = {
  "epic.created": define(Schema.Struct({ title: Title, description: Schema.String, status: Status }), creates),
  "epic.updated": define(Schema.Struct(Fields), setsFields),
  "epic.deleted": define(Empty, (_, kind) => deletes(kind)),
  "task.created": define(Schema.Struct({ epic: Schema.String, title: Title, description: Schema.String, status: Status, owner: Schema.NullOr(Schema.String) }),
    creates
  ),
  "task.updated": define(Schema.Struct(WorkFields), setsFields),
  "task.claimed": define(Schema.Struct({ owner: Schema.String, status: Schema.Literal("in_progress") }), setsFields),
  "task.deleted": define(Empty, (_, kind) => deletes(kind)),
  "subtask.created": define(Schema.Struct({ task: Schema.String, title: Title, description: Schema.String, status: Status, owner: Schema.NullOr(Schema.String) }),
    creates
  ),
  "subtask.updated": define(Schema.Struct(WorkFields), setsFields),
  "subtask.claimed": define(Schema.Struct({ owner: Schema.String, status: Schema.Literal("in_progress") }), setsFields),
  "subtask.deleted": define(Empty, (_, kind) => deletes(kind)),
  /** A claim's lease, set or renewed by its owner: it expires `lease` ms after the event's wall time. No field. */
  "task.leased": define(Lease, none),
  "subtask.leased": define(Lease, none),
  /** An append-only note, its id its event's id: no field, so concurrent notes never conflict. */
  "task.noted": define(Note, none),
  "subtask.noted": define(Note, none),
  /** A plan applied to this epic: its temporary keys and the entities they name (src/tracker/Plan.ts). No field. */
  "epic.planned": define(
    Schema.Struct({
      plan: Schema.String,
      keys: Schema.Record({ key: Schema.String, value: Schema.Struct({ kind: Schema.Literal("epic", "task", "subtask"), id: Schema.String }) })
    }),
    none
  ),
  /**
   * A knowledge event on a stream (its entity: the branch): the stream now knows
   * everything in this event's causal context, by a pull of `source` or, for a
   * new branch, inherited from the branch it was created from (`fork`). No
   * field: it makes sync state (knowledge, heads, conflict records) a function
   * of the log and carries it across clones. `invariants`: the cycles and
   * orphans that a check in this transaction recorded and settled (a pull's, a
   * fetch's, or a write's own `check`), so invariant records are a function of
   * the log too (docs/sync.md, Invariant conflicts).
   */
  "stream.learnt": define(
    Schema.Struct({
      via: Schema.Literal("pull", "fork", "fetch", "check"),
      source: Schema.String,
      invariants: Schema.optional(InvariantOutcome)
    }),
    none
  ),
  "dependency.added": define(Edge, () => presence(true)),
  "dependency.removed": define(Edge, () => presence(false)),
  /**
   * A conflict's settlement, on any kind of entity: `field` takes `value`. For
   * `existence` true, `restored` holds every field's restored value and the
   * version the entity comes back with; for `presence` true, the edge's endpoints.
   */
  "conflict.resolved": define(Schema.Struct({
      conflict: Schema.NullOr(Schema.Number),
      field: Schema.String,
      value: Schema.Unknown,
      restored: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
      version: Schema.optional(Schema.Number),
      createdClock: Schema.optional(Schema.Number)
    }),
    settles
  )
} as const

export type Operation = keyof typeof operations
export type PayloadOf<Op extends Operation> = Schema.Schema.Type<(typeof operations)[Op]["payload"]>

/** Bumped when a payload's shape changes; stored with every event. */
export const payloadVersion = 1

export const operationNames = Object.keys(operations) as ReadonlyArray<Operation>
export const isOperation = (op: string): op is Operation => Object.hasOwn(operations, op)

/** What writing the fields needs of an event. */
export interface WritingEvent {
  readonly op: Operation | string
  readonly entityKind: EntityKind | string
  readonly payload: unknown
}

/** The fields `event` writes, in alphabetical order. */
export const writesOf = (event: WritingEvent): ReadonlyArray<Write> => {
  const definition = operations[event.op as Operation] as Definition<unknown, unknown>
  return definition.writes(event.payload, event.entityKind as EntityKind).sort(byField)
}

type Check = (u: unknown) => Either.Either<unknown, ParseResult.ParseError>
const decoders = new Map<Operation, Check>()
const validators = new Map<Operation, Check>()

const against = (cache: Map<Operation, Check>, make: (schema: Schema.Schema<unknown, unknown>) => Check) =>
(op: string, payload: unknown): Either.Either<unknown, InvalidPayload> => {
  if (!isOperation(op)) return Either.left(new InvalidPayload({ message: `unknown operation ${op}`, details: { op } }))
  let check = cache.get(op)
  if (check === undefined) {
    check = make(operations[op].payload as Schema.Schema<unknown, unknown>)
    cache.set(op, check)
  }
  return check(payload).pipe(
    Either.mapLeft((e) => new InvalidPayload({ message: `invalid ${op} payload: ${formatParseError(e)}`, details: { op } }))
  )
}

/** Validates an untrusted payload (input) against its operation's Schema, decoding it (titles trimmed). */
export const decodePayload = against(decoders, (schema) => Schema.decodeUnknownEither(schema))

const validateWithIssues = against(validators, (schema) => Schema.validateEither(schema))
const guards = new Map<Operation, (u: unknown) => boolean>()

/**
 * Checks a stored payload against its operation's Schema. Stored payloads are
 * already decoded, so this validates the decoded shape. A valid one (nearly
 * all) is recognised by the Schema's guard, which collects no issues; only an
 * invalid one is validated again for its message. It runs on every event a
 * pull learns and a rebuild replays.
 */
export const validateStoredPayload = (op: string, payload: unknown): Either.Either<unknown, InvalidPayload> => {
  if (isOperation(op)) {
    let is = guards.get(op)
    if (is === undefined) {
      // A JSON value never holds undefined, so the guard's exact optional keys accept what validation does.
      is = compileGuard(operations[op].payload as Schema.Schema<unknown, unknown>)
      guards.set(op, is)
    }
    if (is(payload)) return Either.right(payload)
  }
  return validateWithIssues(op, payload)
}

/** Why a stored event cannot be used: the reasons a pull's quarantine counts. */
export type Unreadable = { readonly reason: "invalid_json" | "unknown_operation" | "invalid_payload"; readonly detail: string }

/**
 * A stored event's payload, parsed and checked against its Schema. An event
 * written behind grove's back (or by a newer grove) may fail: pulls quarantine
 * it, and base, restore and replay skip it, so it never reaches live state or
 * conflict records.
 */
export const readStoredPayload = (op: string, text: string): Either.Either<unknown, Unreadable> => {
  let payload: unknown
  try {
    payload = JSON.parse(text)
  } catch (e) {
    return Either.left({ reason: "invalid_json", detail: e instanceof Error ? e.message : String(e) })
  }
  const checked = validateStoredPayload(op, payload)
  return Either.isRight(checked)
    ? Either.right(checked.right)
    : Either.left({ reason: isOperation(op) ? "invalid_payload" : "unknown_operation", detail: checked.left.message })
}

/** A Schema failure as short `path: message` text, for error messages people read. */
export const formatParseError = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message))
    .join("; ")
