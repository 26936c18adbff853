import { Command } from "@effect/cli"
import { Effect, Option } from "effect"
import * as Flags from "../options.ts"
import { Queries } from "../../projections/Queries.ts"
import { Work } from "../../projections/Work.ts"
import { entityLine, entityLines } from "../render.ts"
import { runReader } from "../run.ts"
import { epicProgress } from "../../tracker/Views.ts"
import { createCommand, deleteCommand, id, showCommand, updateCommand } from "./entities.ts"

const progress = Command.make("progress", { id }, (o) =>
  runReader(
    "epic progress",
    Effect.map(epicProgress(o.id), (data) => {
      const { next, ...counts } = data
      return {
        data,
        text: [
          `${o.id}: ${counts.done}/${counts.total} done, ${counts.inProgress} in progress, ${counts.todo} todo (${counts.ready} ready, ${counts.waiting} waiting on dependencies), ${counts.blocked} blocked`,
          next === null ? "  next: nothing ready" : `  next: ${entityLine(next)}`
        ].join("\n")
      }
    })
  )).pipe(Command.withDescription("Counts per status, ready and waiting tasks, and the next candidate of an epic."))

const list = Command.make("list", { search: Flags.search }, (o) =>
  runReader(
    "epic list",
    Effect.gen(function*() {
      const all = yield* (yield* Queries).epics()
      const epics = Option.isSome(o.search) ? yield* (yield* Work).narrow(all, o.search.value, "epic") : all
      return { data: epics, text: entityLines(epics, "No epics.") }
    })
  )).pipe(Command.withDescription("List epics, oldest first (best match first with --search)."))

export const epic = Command.make("epic").pipe(
  Command.withDescription("Epics: the top of the graph."),
  Command.withSubcommands([createCommand("epic"), showCommand("epic"), list, updateCommand("epic"), deleteCommand("epic"), progress])
)
