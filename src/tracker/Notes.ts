import { Effect } from "effect"
import { draft } from "../events/Event.ts"
import { InvalidInput } from "../errors/index.ts"
import type { Subtask, Task } from "../projections/Queries.ts"
import { Work } from "../projections/Work.ts"
import type { Acting } from "./Acting.ts"
import { Claims, type WorkKind } from "./Claims.ts"
import { Tracker } from "./Tracker.ts"
import { Writer } from "../write/Writer.ts"

/**
 * Appends a note to a task or subtask. A note is its own event that sets no
 * field (src/events/writes.ts), so notes written concurrently on several
 * branches never conflict: each is kept, in clock order, with its
 * provenance. A note by the claim's owner renews its lease.
 */
export const addNote = (kind: WorkKind, id: string, text: string, acting: Acting) =>
  Effect.gen(function*() {
    if (text.trim() === "") return yield* new InvalidInput({ message: "a note must not be empty", details: { field: "text" } })
    const tracker = yield* Tracker
    const claims = yield* Claims
    const who = yield* claims.whoActs(acting)
    const note = draft(`${kind}.noted`, { kind, id }, { text: text.trim(), author: who })
    yield* (yield* Writer).write((emit) =>
      Effect.gen(function*() {
        const entity = (yield* tracker.find(kind, id)) as Task | Subtask
        yield* emit([note])
        yield* claims.renewAround(emit, entity, who)
      })
    )
    return (yield* (yield* Work).notes(id)).find((n) => n.id === note.id)!
  })
