import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { Queries } from "../../projections/Queries.ts"
import { Work } from "../../projections/Work.ts"
import * as Flags from "../options.ts"
import { entityLines } from "../render.ts"
import { runReader } from "../run.ts"
import { createCommand, deleteCommand, showCommand, updateCommand } from "./entities.ts"
import { createManyCommand } from "./task.ts"
import { claimCommand, doneCommand, heartbeatCommand, noteCommand, releaseCommand } from "./work.ts"

const list = Command.make(
  "list",
  { task: Options.text("task").pipe(Options.withDescription("only this task's subtasks"), Options.optional), search: Flags.search },
  (o) =>
    runReader(
      "subtask list",
      Effect.gen(function*() {
        const all = yield* (yield* Queries).subtasks(Flags.optional(o.task))
        const subtasks = Option.isSome(o.search) ? yield* (yield* Work).narrow(all, o.search.value, "subtask") : all
        return { data: subtasks, text: entityLines(subtasks, "No subtasks.") }
      })
    )
).pipe(Command.withDescription("List subtasks, oldest first."))

export const subtask = Command.make("subtask").pipe(
  Command.withDescription("Subtasks: steps of a task."),
  Command.withSubcommands([
    createCommand("subtask"),
    showCommand("subtask"),
    list,
    updateCommand("subtask"),
    deleteCommand("subtask"),
    claimCommand("subtask"),
    releaseCommand("subtask"),
    heartbeatCommand("subtask"),
    doneCommand("subtask"),
    noteCommand("subtask"),
    createManyCommand("subtask")
  ])
)
