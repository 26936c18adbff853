import { Effect } from "effect"
import { NotFound } from "../errors/index.ts"
import { type Entity, Queries } from "./Queries.ts"
import { Work } from "./Work.ts"

/**
 * What `show` answers, for the CLI's `--json` data and the MCP tool and
 * resource alike: projection reads only, so a read loads no write path.
 */

/** An entity with its children, dependency edges, lease and notes (`show`). */
export const showEntity = (kind: Entity["kind"], id: string) =>
  Effect.gen(function*() {
    const queries = yield* Queries
    const entity = yield* (kind === "epic" ? queries.epic(id) : kind === "task" ? queries.task(id) : queries.subtask(id))
    if (entity === undefined) return yield* new NotFound({ message: `no ${kind} with id ${id}`, details: { kind, id } })
    const children = kind === "epic" ? yield* queries.tasks({ epic: id }) : kind === "task" ? yield* queries.subtasks(id) : []
    const edges = kind === "epic" ? { dependsOn: [], dependedOnBy: [] } : yield* queries.dependencies({ kind, id })
    const work = yield* Work
    const notes = kind === "epic" ? [] : yield* work.notes(id)
    const lease = kind === "epic" ? null : yield* work.lease(id)
    return { ...entity, children, dependsOn: edges.dependsOn, dependedOnBy: edges.dependedOnBy, lease, notes }
  })

