import { Effect } from "effect"
import { showEntity } from "../../projections/Detail.ts"
import { Queries } from "../../projections/Queries.ts"
import { Work } from "../../projections/Work.ts"
import type { EntityKindName } from "../../tracker/Tracker.ts"
import type { Handler } from "../execute.ts"
import { cell, edgeLine, entityDetail, entityLine, entityLines, noteLine } from "../render.ts"
import { pageMeta, pageRequest, statusFilter } from "../paging.ts"
import { runReader } from "../runReader.ts"
import type { Input } from "../spec.ts"

/**
 * The show and list commands epics, tasks and subtasks share: projection reads
 * only, apart from entities.ts so that a read loads none of the write path.
 */

/** A read: the projection only, no write path. */
const show = (kind: EntityKindName): Handler => (o: Input) =>
  runReader(
    `${kind} show`,
    Effect.map(showEntity(kind, o.required("id")), (data) => {
      const { children, dependsOn, dependedOnBy, lease, notes } = data
      return {
        data,
        text: [
          entityDetail(data),
          ...(children.length ? ["  children:", ...children.map((c) => `    ${entityLine(c)}`)] : []),
          ...(dependsOn.length ? ["  depends on:", ...dependsOn.map((d) => `    ${edgeLine(d)}`)] : []),
          ...(dependedOnBy.length ? ["  depended on by:", ...dependedOnBy.map((d) => `    ${edgeLine(d)}`)] : []),
          ...(lease === null ? [] : [`  lease:       ${cell(lease.owner, 40)} until ${new Date(lease.expiresAt).toISOString()}`]),
          ...(notes.length ? ["  notes:", ...notes.map((n) => `    ${noteLine(n)}`)] : [])
        ].join("\n")
      }
    })
  )

const list = (kind: EntityKindName): Handler => (o: Input) =>
  runReader(
    `${kind} list`,
    Effect.gen(function*() {
      const request = yield* pageRequest(o)
      const statuses = yield* statusFilter(o)
      const filter = { parent: o.text(kind === "task" ? "epic" : "task"), statuses, owner: o.text("owner") }
      const search = o.text("search")
      if (search !== undefined) {
        // Ranked by relevance, not pageable by creation order: every hit, --limit of them at most.
        const all = yield* (yield* Queries).list(kind, filter, { limit: undefined, after: undefined })
        const hits = (yield* (yield* Work).narrow(all.rows, search, kind)).slice(0, request.limit ?? undefined)
        return { data: hits, text: entityLines(hits, `No ${kind}s match.`) }
      }
      const page = yield* (yield* Queries).list(kind, filter, request)
      const { footer, meta } = pageMeta(page, request)
      return { data: page.rows, meta, text: [entityLines(page.rows, `No ${kind}s.`), ...footer].join("\n") }
    })
  )

const kinds: ReadonlyArray<EntityKindName> = ["epic", "task", "subtask"]

export const handlers: Record<string, Handler> = Object.fromEntries(kinds.flatMap((kind) => [
  [`${kind} show`, show(kind)],
  [`${kind} list`, list(kind)]
]))
