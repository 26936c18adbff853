import { Effect } from "effect"
import { showEntity } from "../../tracker/Views.ts"
import { InvalidInput } from "../../errors/index.ts"
import { Queries } from "../../projections/Queries.ts"
import { Work } from "../../projections/Work.ts"
import { ensureTasksDone } from "../../tracker/epicDone.ts"
import { oversized, sizeLimits } from "../../tracker/limits.ts"
import { type EntityKindName, Tracker } from "../../tracker/Tracker.ts"
import type { Handler } from "../execute.ts"
import { cell, edgeLine, entityDetail, entityLine, entityLines } from "../render.ts"
import { pageMeta, pageRequest, statusFilter } from "../paging.ts"
import { runCore, runReader } from "../run.ts"
import type { Input } from "../spec.ts"
import { noteLine } from "./work.ts"

/** The create / show / list / update / delete commands epics, tasks and subtasks share. */

const parentFlag = { task: "epic", subtask: "task" } as const

/** Titles, descriptions and owners beyond their documented sizes are refused before anything is opened for writing. */
const checkSizes = (fields: Parameters<typeof oversized>[0]) => {
  const over = oversized(fields)
  return over === undefined ? Effect.void : Effect.fail(new InvalidInput({ message: `--${over.field}: ${over.message}`, details: { flag: over.field, limit: sizeLimits[over.field] } }))
}

const create = (kind: EntityKindName): Handler => (o: Input) =>
  runCore(
    `${kind} create`,
    Effect.gen(function*() {
      const title = o.required("title").trim()
      if (title === "") return yield* new InvalidInput({ message: "--title must not be empty", details: { flag: "title" } })
      const owner = o.text("owner")
      yield* checkSizes({ title, description: o.text("description"), owner })
      const created = yield* (yield* Tracker).create(kind, kind === "epic" ? undefined : o.required(parentFlag[kind]), {
        title,
        description: o.text("description"),
        owner: owner === "" ? null : owner
      })
      return { data: created, text: `Created ${kind} ${created.id}: ${cell(created.title)}` }
    })
  )

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

const update = (kind: EntityKindName): Handler => (o: Input) =>
  runCore(
    `${kind} update`,
    Effect.gen(function*() {
      const title = o.text("title")?.trim()
      if (title === "") return yield* new InvalidInput({ message: "--title must not be empty", details: { flag: "title" } })
      const owner = o.text("owner")
      yield* checkSizes({ title, description: o.text("description"), owner })
      if (kind === "epic" && o.text("status") === "done" && !o.flag("force")) yield* ensureTasksDone(o.required("id"))
      const result = yield* (yield* Tracker).update(
        kind,
        o.required("id"),
        { title, description: o.text("description"), status: o.text("status") as never, owner: owner === "" ? null : owner },
        o.integer("if-version")
      )
      return { data: result, text: result.changed ? `Updated ${entityLine(result.entity)}` : `Unchanged ${entityLine(result.entity)}` }
    })
  )

const remove = (kind: EntityKindName): Handler => (o: Input) =>
  runCore(
    `${kind} delete`,
    Effect.gen(function*() {
      const id = o.required("id")
      const result = yield* (yield* Tracker).remove(kind, id, o.integer("if-version"))
      return {
        data: result,
        text: [`Deleted ${kind} ${id}`, ...result.cascade.map((c) => `  and ${c.op.replace(".deleted", "").replace(".removed", " edge")} ${c.id}`)]
          .join("\n")
      }
    })
  )

const kinds: ReadonlyArray<EntityKindName> = ["epic", "task", "subtask"]

export const handlers: Record<string, Handler> = Object.fromEntries(kinds.flatMap((kind) => [
  [`${kind} create`, create(kind)],
  [`${kind} show`, show(kind)],
  [`${kind} list`, list(kind)],
  [`${kind} update`, update(kind)],
  [`${kind} delete`, remove(kind)]
]))
