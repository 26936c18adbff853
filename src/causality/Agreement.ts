import { makeFieldWrites } from "./Heads.ts"
import type { HeadsStore } from "./HeadsStore.ts"
import type { Knowledge } from "./Knowledge.ts"
import type { LearntEvents } from "./LearntEvents.ts"

/**
 * Does a stream's scope already agree on a field's value: does every causally
 * maximal write to it that the stream knows carry that value (JSON text)? A
 * write the live state already shows is skipped only then (docs/sync.md
 * "Explicit writes"): when an unpulled branch wrote the value, or the field is
 * in conflict here, writing it again is a decision and is recorded. A stream
 * that knows no write to the field (not even the creation) agrees with any.
 */
export const makeAgreement = (knowledge: Knowledge, events: LearntEvents, heads: HeadsStore) => {
  const writes = makeFieldWrites()
  return {
    agrees: (streamId: number | undefined, entityId: string, field: string, value: string): boolean => {
      if (streamId === undefined) return true
      const maximal = heads.headsOf(streamId, [entityId]).filter((h) => h.field === field)
      if (maximal.length > 0) return maximal.every((h) => writes.valueOf(events.fromRow(h), field) === value)
      // No write to the field yet: its creation, if the stream knows it, is the one maximal write.
      const creation = events.creations([entityId]).get(entityId)
      if (creation === undefined) return true
      const known = creation.streamId === streamId || (knowledge.current(streamId)[creation.streamId] ?? 0) >= creation.seq
      return !known || writes.valueOf(creation, field) === value
    }
  }
}

export type Agreement = ReturnType<typeof makeAgreement>
