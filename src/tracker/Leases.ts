import { Effect } from "effect"
import { draft } from "../events/Event.ts"
import type { Subtask, Task } from "../projections/Queries.ts"
import type { Work } from "../projections/Work.ts"
import type { Emit } from "../write/Writer.ts"

/**
 * "Any write by the owner renews the lease" (docs/decisions.md, Claims): a
 * write by the lease's owner appends a `.leased` event with the lease's
 * length next to its own, in the same transaction.
 */
export const renewLease = (work: typeof Work.Service, emit: Emit, kind: "task" | "subtask", id: string, who: string) =>
  Effect.gen(function*() {
    const lease = yield* work.lease(id)
    if (lease !== null && lease.owner === who) yield* emit([draft(`${kind}.leased`, { kind, id }, { owner: who, lease: lease.leaseMs })])
  })

/** A write by `who` on a task renews its lease; on a subtask, the subtask's and its parent task's. */
export const renewLeases = (work: typeof Work.Service, emit: Emit, entity: Task | Subtask, who: string) =>
  Effect.gen(function*() {
    yield* renewLease(work, emit, entity.kind, entity.id, who)
    if (entity.kind === "subtask") yield* renewLease(work, emit, "task", entity.taskId, who)
  })
