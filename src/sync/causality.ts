import { isCreation } from "../events/writes.ts"

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
}

/**
 * Is `a` in the causal past of `b`? docs/sync.md rules (a)-(d): b's stream's
 * earlier events, what b's stream had pulled, the creation of b's entity, and
 * for an --if-version write every earlier write to its entity.
 */
export const inPast = (a: CausalEvent, b: CausalEvent): boolean =>
  a.seq < b.seq && (
    a.streamId === b.streamId ||
    (b.frontier[a.streamId] ?? 0) >= a.seq ||
    (a.entityId === b.entityId && (isCreation(a.op) || b.ifVersion))
  )
