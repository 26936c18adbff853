import { Schema } from "effect"
import { GroveError } from "../errors/index.ts"
import { newEventId } from "./ids.ts"
import type { Operation, PayloadOf } from "./operations.ts"

export class InvalidPayload extends GroveError("InvalidPayload", "invalid_payload") {}

export const Status = Schema.Literal("todo", "in_progress", "done", "blocked")
export type Status = typeof Status.Type

export const Title = Schema.Trim.pipe(Schema.minLength(1, { message: () => "title must not be empty" }))

export const NodeKind = Schema.Literal("task", "subtask")
export type NodeKind = typeof NodeKind.Type

/** One end of a dependency edge. */
export const NodeRef = Schema.Struct({ kind: NodeKind, id: Schema.String })
export type NodeRef = typeof NodeRef.Type

/** What an event is about: the graph's entities, or a stream (a branch), whose knowledge events change no live state. */
export type EntityKind = "epic" | "task" | "subtask" | "dependency" | "stream"

/** An event before it is stored: its id is fixed at once so cascades can point at it. */
export type EventDraft = {
  [Op in Operation]: {
    readonly id: string
    readonly op: Op
    readonly entityKind: EntityKind
    readonly entityId: string
    readonly payload: PayloadOf<Op>
    /** The event whose cascade produced this one (a parent's delete). */
    readonly causeId: string | null
    /** Written with --if-version: the writer saw every earlier write to the entity. */
    readonly ifVersion: boolean
  }
}[Operation]

/** An event as stored: the draft plus its place in the log. */
export type StoredEvent = EventDraft & {
  readonly seq: number
  readonly clock: number
  readonly streamId: number
  /** The frontier the stream had when this was written (null: it had pulled nothing). */
  readonly frontierId: number | null
}

export const draft = <Op extends Operation>(
  op: Op,
  entity: { readonly kind: EntityKind; readonly id: string },
  payload: PayloadOf<Op>,
  options: { readonly causeId?: string | null; readonly ifVersion?: boolean } = {}
): EventDraft =>
  ({
    id: newEventId(),
    op,
    entityKind: entity.kind,
    entityId: entity.id,
    payload,
    causeId: options.causeId ?? null,
    ifVersion: options.ifVersion ?? false
  }) as EventDraft

/** The identity of a dependency edge: its two endpoints. */
export const edgeId = (source: NodeRef, target: NodeRef) => `${source.id}>${target.id}`
