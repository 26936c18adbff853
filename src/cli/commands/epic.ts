import { Command } from "@effect/cli"
import { Effect } from "effect"
import { Queries } from "../../projections/Queries.ts"
import { entityLines } from "../render.ts"
import { runReader } from "../run.ts"
import { createCommand, deleteCommand, showCommand, updateCommand } from "./entities.ts"

const list = Command.make("list", {}, () =>
  runReader(
    "epic list",
    Effect.map(Effect.flatMap(Queries, (q) => q.epics()), (epics) => ({ data: epics, text: entityLines(epics, "No epics.") }))
  )).pipe(Command.withDescription("List epics, oldest first."))

export const epic = Command.make("epic").pipe(
  Command.withDescription("Epics: the top of the graph."),
  Command.withSubcommands([createCommand("epic"), showCommand("epic"), list, updateCommand("epic"), deleteCommand("epic")])
)
