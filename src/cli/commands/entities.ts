import { Effect } from "effect"
import { InvalidInput } from "../../errors/index.ts"
import { ensureTasksDone } from "../../tracker/epicDone.ts"
import { oversized, sizeLimits } from "../../tracker/limits.ts"
import { type EntityKindName, Tracker } from "../../tracker/Tracker.ts"
import type { Handler } from "../execute.ts"
import { cell, entityLine } from "../render.ts"
import { runTrackerAlone } from "../run.ts"
import type { Input } from "../spec.ts"

/** The create / update / delete commands epics, tasks and subtasks share; show and list are in reads.ts. */

const parentFlag = { task: "epic", subtask: "task" } as const

/** Titles, descriptions and owners beyond their documented sizes are refused before anything is opened for writing. */
const checkSizes = (fields: Parameters<typeof oversized>[0]) => {
  const over = oversized(fields)
  return over === undefined ? Effect.void : Effect.fail(new InvalidInput({ message: `--${over.field}: ${over.message}`, details: { flag: over.field, limit: sizeLimits[over.field] } }))
}

const create = (kind: EntityKindName): Handler => (o: Input) =>
  runTrackerAlone(
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

const update = (kind: EntityKindName): Handler => (o: Input) =>
  runTrackerAlone(
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
  runTrackerAlone(
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
  [`${kind} update`, update(kind)],
  [`${kind} delete`, remove(kind)]
]))
