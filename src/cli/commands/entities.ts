import { Args, Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { InvalidInput } from "../../errors/index.ts"
import { type EntityKindName, Tracker } from "../../tracker/Tracker.ts"
import * as Flags from "../options.ts"
import { edgeLine, entityDetail, entityLine } from "../render.ts"
import { runTracker } from "../run.ts"
import { noteLine } from "./work.ts"
import { showEntity } from "../../tracker/Views.ts"

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
      Effect.map(showEntity(kind, id), (data) => {
        const { children, dependsOn, dependedOnBy, lease, notes } = data
        return {
          data,
          text: [
            entityDetail(data),
            ...(children.length ? ["  children:", ...children.map((c) => `    ${entityLine(c)}`)] : []),
            ...(dependsOn.length ? ["  depends on:", ...dependsOn.map((d) => `    ${edgeLine(d)}`)] : []),
            ...(dependedOnBy.length ? ["  depended on by:", ...dependedOnBy.map((d) => `    ${edgeLine(d)}`)] : []),
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
