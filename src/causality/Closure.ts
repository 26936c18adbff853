import type { Database } from "bun:sqlite"
import { creationsOf, newestPerStream } from "../events/log.ts"
import { isCreation } from "../events/writes.ts"
import { type Frontier, isCascadeDelete } from "./causality.ts"
import { join, type Knowledge } from "./Knowledge.ts"

/** What the closure needs of a draft: its entity, operation, cause and --if-version flag. */
export interface DraftContext {
  readonly entityId: string
  readonly op: string
  readonly causeId: string | null
  readonly ifVersion: boolean
}

/**
 * Causal order is transitive (docs/sync.md): a stream's knowledge is closed
 * under causal past. A write has in its past its entity's creation (rule (c),
 * but not a cascaded delete) and, with --if-version, every write to its entity
 * this database holds (rule (d)); once written, the past of those is in the
 * past of the stream's later events too. So before a draft is appended, its
 * stream must know what rules (c) and (d) give it, with their own pasts: this
 * says, per draft, what that is as a frontier (for each stream, the highest seq
 * needed; a frontier is a prefix of each stream, and each event's stored
 * frontier is already closed). `{}` for a draft that needs nothing.
 */
export const makeClosure = (db: Database, knowledge: Knowledge) => ({
  needs: (self: number, drafts: ReadonlyArray<DraftContext>): Array<Frontier> => {
    const edits = drafts.filter((d) => !isCreation(d.op) && !isCascadeDelete(d)).map((d) => d.entityId)
    const creations = edits.length === 0 ? new Map() : new Map(creationsOf(db, [...new Set(edits)]).map((r) => [r.entity_id, r]))
    return drafts.map((d) => {
      const held: Array<{ stream_id: number; seq: number; frontier_id: number | null }> = []
      const creation = isCreation(d.op) || isCascadeDelete(d) ? undefined : creations.get(d.entityId)
      if (creation !== undefined) held.push(creation)
      if (d.ifVersion) held.push(...newestPerStream(db, d.entityId))
      return join(self, ...held.flatMap((e) => [{ [e.stream_id]: e.seq }, knowledge.byId(e.frontier_id)]))
    })
  }
})

export type Closure = ReturnType<typeof makeClosure>
