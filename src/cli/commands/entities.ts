import { Args, Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { InvalidInput } from "../../errors/index.ts"
import { Queries } from "../../projections/Queries.ts"
import { Work } from "../../projections/Work.ts"
import { type EntityKindName, Tracker } from "../../tracker/Tracker.ts"
import * as Flags from "../options.ts"
import { edgeLine, entityDetail, entityLine } from "../render.ts"
import { runTracker } from "../run.ts"
import { noteLine } from "./work.ts"

/** The create / show / update / delete commands epics, tasks and subtasks share. */

export const id = Args.text({ name: "id" }).pipe(Args.withDescription("the entity's id"))

const parentFlag = { task: "epic", subtask: "task" } as const

export const createCommand = (kind: EntityKindName) =>
  Command.make(
    "create",
    {
      title: Flags.title,
      description: Flags.description,
      parent: kind === "epic"
        ? Options.none.pipe(Options.map(() => undefined as string | undefined))
        : Options.text(parentFlag[kind]).pipe(Options.withDescription(`the parent ${parentFlag[kind]}`), Options.map((p): string | undefined => p)),
      owner: kind === "epic" ? Options.none.pipe(Options.map(() => undefined as string | undefined)) : Flags.owner.pipe(Options.map(Flags.optional))
    },
    (o) =>
      runTracker(
        `${kind} create`,
        Effect.gen(function*() {
          if (o.title.trim() === "") return yield* new InvalidInput({ message: "--title must not be empty", details: { flag: "title" } })
          const created = yield* (yield* Tracker).create(kind, o.parent, {
            title: o.title.trim(),
            description: Flags.optional(o.description),
            owner: o.owner === "" ? null : o.owner
          })
          return { data: created, text: `Created ${kind} ${created.id}: ${created.title}` }
        })
      )
  ).pipe(Command.withDescription(`Create a ${kind}.`))

export const showCommand = (kind: EntityKindName) =>
  Command.make("show", { id }, ({ id }) =>
    runTracker(
      `${kind} show`,
      Effect.gen(function*() {
        const entity = yield* (yield* Tracker).find(kind, id)
        const queries = yield* Queries
        const children = kind === "epic" ? yield* queries.tasks({ epic: id }) : kind === "task" ? yield* queries.subtasks(id) : []
        const edges = kind === "epic" ? { dependsOn: [], dependedOnBy: [] } : yield* queries.dependencies({ kind, id })
        const work = yield* Work
        const notes = kind === "epic" ? [] : yield* work.notes(id)
        const lease = kind === "epic" ? null : yield* work.lease(id)
        return {
          data: { ...entity, children, dependsOn: edges.dependsOn, dependedOnBy: edges.dependedOnBy, lease, notes },
          text: [
            entityDetail(entity),
            ...(children.length ? ["  children:", ...children.map((c) => `    ${entityLine(c)}`)] : []),
            ...(edges.dependsOn.length ? ["  depends on:", ...edges.dependsOn.map((d) => `    ${edgeLine(d)}`)] : []),
            ...(edges.dependedOnBy.length ? ["  depended on by:", ...edges.dependedOnBy.map((d) => `    ${edgeLine(d)}`)] : []),
            ...(lease === null ? [] : [`  lease:       ${lease.owner} until ${new Date(lease.expiresAt).toISOString()}`]),
            ...(notes.length ? ["  notes:", ...notes.map((n) => `    ${noteLine(n)}`)] : [])
          ].join("\n")
        }
      })
    )).pipe(Command.withDescription(`Show a ${kind} with its children, dependencies, lease and notes (with their provenance).`))

export const updateCommand = (kind: EntityKindName) =>
  Command.make(
    "update",
    {
      id,
      title: Options.text("title").pipe(Options.withDescription("new title"), Options.optional),
      description: Flags.description,
      status: Flags.status,
      owner: kind === "epic" ? Options.none.pipe(Options.map(() => undefined as string | undefined)) : Flags.owner.pipe(Options.map(Flags.optional)),
      ifVersion: Flags.ifVersion
    },
    (o) =>
      runTracker(
        `${kind} update`,
        Effect.gen(function*() {
          const title = Flags.optional(o.title)?.trim()
          if (title === "") return yield* new InvalidInput({ message: "--title must not be empty", details: { flag: "title" } })
          const result = yield* (yield* Tracker).update(
            kind,
            o.id,
            { title, description: Flags.optional(o.description), status: Flags.optional(o.status), owner: o.owner === "" ? null : o.owner },
            Flags.optional(o.ifVersion)
          )
          return { data: result, text: result.changed ? `Updated ${entityLine(result.entity)}` : `Unchanged ${entityLine(result.entity)}` }
        })
      )
  ).pipe(Command.withDescription(`Change a ${kind}'s fields; only changed fields are written.`))

export const deleteCommand = (kind: EntityKindName) =>
  Command.make("delete", { id, ifVersion: Flags.ifVersion }, (o) =>
    runTracker(
      `${kind} delete`,
      Effect.gen(function*() {
        const result = yield* (yield* Tracker).remove(kind, o.id, Flags.optional(o.ifVersion))
        return {
          data: result,
          text: [`Deleted ${kind} ${o.id}`, ...result.cascade.map((c) => `  and ${c.op.replace(".deleted", "").replace(".removed", " edge")} ${c.id}`)]
            .join("\n")
        }
      })
    )).pipe(Command.withDescription(`Delete a ${kind}, its children and every dependency touching them.`))
