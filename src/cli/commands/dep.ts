import { Args, Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { Queries } from "../../projections/Queries.ts"
import { Bulk } from "../../tracker/Bulk.ts"
import { Tracker } from "../../tracker/Tracker.ts"
import * as Flags from "../options.ts"
import { edgeLine } from "../render.ts"
import { Output, progressLine } from "../Output.ts"
import { runTracker } from "../run.ts"
import { bulkLines } from "./bulk.ts"

const source = Args.text({ name: "source" }).pipe(Args.withDescription("the task or subtask that waits"))
const target = Args.text({ name: "target" }).pipe(Args.withDescription("the task or subtask it waits for"))

const force = Options.boolean("force").pipe(Options.withDescription("when SOURCE is done and TARGET is not: add the edge and reopen SOURCE to todo"))

const add = Command.make("add", { source, target, force }, (o) =>
  runTracker(
    "dep add",
    Effect.map(Effect.flatMap(Tracker, (t) => t.addDependency(o.source, o.target, { force: o.force })), (edge) => ({
      data: edge,
      text: `Added ${edgeLine(edge)}${edge.reopened ? `; reopened ${edge.source.id} to todo` : ""}`
    }))
  )).pipe(Command.withDescription("SOURCE depends on TARGET: SOURCE cannot start or finish until TARGET is done."))

const remove = Command.make("remove", { source, target }, (o) =>
  runTracker(
    "dep remove",
    Effect.map(Effect.flatMap(Tracker, (t) => t.removeDependency(o.source, o.target)), (edge) => ({
      data: edge,
      text: `Removed ${edgeLine(edge)}`
    }))
  )).pipe(Command.withDescription("Remove the edge SOURCE -> TARGET."))

const list = Command.make(
  "list",
  { id: Args.text({ name: "id" }).pipe(Args.withDescription("only edges touching this task or subtask"), Args.optional) },
  (o) =>
    runTracker(
      "dep list",
      Effect.gen(function*() {
        const queries = yield* Queries
        const edges = o.id._tag === "Some"
          ? yield* Effect.flatMap(Effect.flatMap(Tracker, (t) => t.findNode(o.id._tag === "Some" ? o.id.value : "")), (n) =>
            Effect.map(queries.dependencies({ kind: n.kind, id: n.id }), (d) => [...d.dependsOn, ...d.dependedOnBy]))
          : yield* queries.allDependencies()
        return { data: edges, text: edges.length === 0 ? "No dependencies." : edges.map(edgeLine).join("\n") }
      })
    )
).pipe(Command.withDescription("List dependency edges."))

const addMany = Command.make(
  "add-many",
  {
    edges: Options.text("edge").pipe(Options.withDescription("SOURCE:TARGET; repeat for several"), Options.repeated),
    file: Flags.file
  },
  (o) =>
    runTracker(
      "dep add-many",
      Effect.gen(function*() {
        const lines = yield* bulkLines(o.edges, o.file, (edge) => {
          const [s, t] = edge.split(":")
          return { source: s, target: t }
        })
        const progress = progressLine((yield* Output).json, "dependencies written:")
        const result = yield* (yield* Bulk).addDependencies(lines, progress.report)
        progress.end()
        return { data: result, text: `Added ${result.added} dependencies` }
      })
    )
).pipe(Command.withDescription('Add many edges in one transaction: --edge S:T repeated, or JSON lines {"source","target"} from --file.'))

export const dep = Command.make("dep").pipe(
  Command.withDescription("Dependency edges between tasks and subtasks."),
  Command.withSubcommands([add, remove, list, addMany])
)
