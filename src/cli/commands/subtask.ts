import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { Queries } from "../../projections/Queries.ts"
import * as Flags from "../options.ts"
import { entityLines } from "../render.ts"
import { runReader } from "../run.ts"
import { createCommand, deleteCommand, showCommand, updateCommand } from "./entities.ts"
import { createManyCommand } from "./task.ts"
import { claimCommand, doneCommand, heartbeatCommand, noteCommand, releaseCommand } from "./work.ts"

const list = Command.make(
  "list",
  { task: Options.text("task").pipe(Options.withDescription("only this task's subtasks"), Options.optional) },
  (o) =>
    runReader(
      "subtask list",
      Effect.map(Effect.flatMap(Queries, (q) => q.subtasks(Flags.optional(o.task))), (subtasks) => ({
        data: subtasks,
        text: entityLines(subtasks, "No subtasks.")
      }))
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
