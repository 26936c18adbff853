import { Effect } from "effect"
import { GroveError } from "../errors/index.ts"
import { Queries } from "../projections/Queries.ts"

export class EpicHasOpenTasks extends GroveError("EpicHasOpenTasks", "epic_has_open_tasks") {}

/** An epic is done when its tasks are: marking it done earlier is refused unless forced. */
export const ensureTasksDone = (epic: string) =>
  Effect.gen(function*() {
    const open = yield* (yield* Queries).list("task", { parent: epic, statuses: ["todo", "in_progress", "blocked"] }, { limit: 1, after: undefined })
    if (open.total > 0) {
      return yield* new EpicHasOpenTasks({
        message: `epic ${epic} still has ${open.total} open task${open.total === 1 ? "" : "s"}; finish them first, or give --force`,
        details: { epic, open: open.total }
      })
    }
  })
