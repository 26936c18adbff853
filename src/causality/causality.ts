import { isCreation } from "../events/writes.ts"

/** The knowledge event's operation: a stream learnt what its causal context holds (a pull, or a fork's inheritance). */
export const knowledgeOp = "stream.learnt" as const

/** A version vector: for each stream id, the highest seq known. */
export type Frontier = Readonly<Record<number, number>>

/** What the causal-past rules need to know of an event. */
export interface CausalEvent {
  readonly seq: number
  readonly streamId: number
  readonly entityId: string
  readonly op: string
  readonly ifVersion: boolean
  readonly frontier: Frontier
  /**
   * For an --if-version write imported from another clone: what its writer's database held (per stream,
   * the highest seq). null for one written here: then everything with a lower seq was there.
   */
  readonly seen: Frontier | null
  /** The event whose cascade produced this one (a parent's delete), if any. */
  readonly causeId: string | null
}

/**
 * A delete a parent's delete cascaded to. Its writer saw the child only in the
 * live state, never chose to delete it, and may not know it was created: the
 * creation rule does not cover it, so deleting a parent cannot silently take
 * work its deleter never knew about (docs/sync.md rule (c)).
 */
export const isCascadeDelete = (e: Pick<CausalEvent, "op" | "causeId">) => e.causeId !== null && e.op.endsWith(".deleted")

/** Was `a` in the database `b` was written in, when it was written? (`a` has the lower seq.) */
const heldWhenWritten = (a: CausalEvent, b: CausalEvent) => b.seen === null || a.seq <= (b.seen[a.streamId] ?? 0)

/**
 * Is `a` in the causal past of `b`? docs/sync.md rules (a)-(d): b's stream's
 * earlier events, what b's stream had pulled, the creation of b's entity
 * (unless b is a cascaded delete), and for an --if-version write every write
 * to its entity that its writer's database held.
 */
export const inPast = (a: CausalEvent, b: CausalEvent): boolean =>
  a.seq < b.seq && (
    a.streamId === b.streamId ||
    (b.frontier[a.streamId] ?? 0) >= a.seq ||
    (a.entityId === b.entityId && ((isCreation(a.op) && !isCascadeDelete(b)) || (b.ifVersion && heldWhenWritten(a, b))))
  )
