import { Effect } from "effect"
import { NotFound } from "../errors/index.ts"
import { Queries } from "../projections/Queries.ts"
import { Work } from "../projections/Work.ts"
import type { Acting } from "./Acting.ts"
import { Claims, type WorkKind } from "./Claims.ts"
import { Pick } from "./Pick.ts"

/**
 * The answers that combine several services, shared by the CLI's `--json`
 * data and the MCP tools (src/mcp), so both front ends return one shape.
 * `show` is projections/Detail.ts (reads only: it loads no write path).
 */

/** Finishes a task or subtask as its owner, with what that unblocked and the next candidate in the same epic (`done`). */
export const finishWork = (kind: WorkKind, id: string, acting: Acting & { readonly ifVersion?: number | undefined }) =>
  Effect.gen(function*() {
    const r = yield* (yield* Claims).finish(kind, id, acting)
    const epic = r.entity.kind === "task"
      ? r.entity.epicId
      : r.entity.kind === "subtask"
      ? (yield* (yield* Queries).task(r.entity.taskId))?.epicId
      : undefined
    const next = yield* (yield* Pick).peek(r.who, epic)
    return { entity: r.entity, changed: r.changed, unblocked: r.unblocked, next }
  })

/** Counts per status, ready and waiting tasks, and the next candidate for anyone (`epic progress`). */
export const epicProgress = (id: string) =>
  Effect.gen(function*() {
    if ((yield* (yield* Queries).epic(id)) === undefined) {
      return yield* new NotFound({ message: `no epic with id ${id}`, details: { kind: "epic", id } })
    }
    const work = yield* Work
    const counts = yield* work.progress(id)
    // The next candidate for anyone: ready and unowned (an empty owner matches no task's owner).
    const next = (yield* work.candidates({ epic: id, who: "", now: Date.now(), limit: 1 }))[0] ?? null
    return { epic: id, ...counts, next }
  })
