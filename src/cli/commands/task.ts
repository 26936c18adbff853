import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { Queries } from "../../projections/Queries.ts"
import { Work } from "../../projections/Work.ts"
import { Bulk } from "../../tracker/Bulk.ts"
import * as Flags from "../options.ts"
import { entityLine, entityLines } from "../render.ts"
import { Output, progressLine } from "../Output.ts"
import { runReader, runTracker } from "../run.ts"
import { bulkLines, titles } from "./bulk.ts"
import { createCommand, deleteCommand, showCommand, updateCommand } from "./entities.ts"
import { claimCommand, doneCommand, heartbeatCommand, noteCommand, releaseCommand } from "./work.ts"

const epicFilter = Options.text("epic").pipe(Options.withDescription("only this epic's tasks"), Options.optional)

const list = Command.make("list", { epic: epicFilter, status: Flags.status, owner: Flags.owner, search: Flags.search }, (o) =>
  runReader(
    "task list",
    Effect.gen(function*() {
      const all = yield* (yield* Queries).tasks({ epic: Flags.optional(o.epic), status: Flags.optional(o.status), owner: Flags.optional(o.owner) })
      const tasks = Option.isSome(o.search) ? yield* (yield* Work).narrow(all, o.search.value, "task") : all
      return { data: tasks, text: entityLines(tasks, "No tasks.") }
    })
  )).pipe(Command.withDescription("List tasks, oldest first (best match first with --search), optionally filtered."))

const ready = Command.make("ready", { epic: epicFilter }, (o) =>
  runReader(
    "task ready",
    Effect.map(Effect.flatMap(Queries, (q) => q.readyTasks(Flags.optional(o.epic))), (tasks) => ({
      data: tasks,
      text: entityLines(tasks, "No ready tasks.")
    }))
  )).pipe(Command.withDescription("Tasks in todo whose dependencies are all done."))

export const createManyCommand = (kind: "task" | "subtask") => {
  const parent = kind === "task" ? "epic" : "task"
  return Command.make(
    "create-many",
    {
      parent: Options.text(parent).pipe(Options.withDescription(`the ${parent} for lines that name none`), Options.optional),
      titles,
      file: Flags.file
    },
    (o) =>
      runTracker(
        `${kind} create-many`,
        Effect.gen(function*() {
          const lines = yield* bulkLines(o.titles, o.file, (title) => ({ title }))
          const progress = progressLine((yield* Output).json, `${kind}s written:`)
          const result = yield* (yield* Bulk).createMany(kind, Option.getOrUndefined(o.parent), lines, progress.report)
          progress.end()
          return { data: result, text: `Created ${result.created} ${kind}s` }
        })
      )
  ).pipe(
    Command.withDescription(
      `Create many ${kind}s in one transaction: --title repeated, or JSON lines {"title","description"?,"owner"?,"parent"?} from --file (- for stdin). A bad line rejects the whole batch.`
    )
  )
}

export const task = Command.make("task").pipe(
  Command.withDescription("Tasks: the units of work under an epic."),
  Command.withSubcommands([
    createCommand("task"),
    showCommand("task"),
    list,
    updateCommand("task"),
    deleteCommand("task"),
    claimCommand("task"),
    releaseCommand("task"),
    heartbeatCommand("task"),
    doneCommand("task"),
    noteCommand("task"),
    ready,
    createManyCommand("task")
  ])
)
