import { Effect } from "effect"
import { Queries } from "../../projections/Queries.ts"
import { Bulk } from "../../tracker/Bulk.ts"
import { Tracker } from "../../tracker/Tracker.ts"
import type { Handler } from "../execute.ts"
import { Output, progressLine } from "../Output.ts"
import { edgeLine } from "../render.ts"
import { runTracker } from "../run.ts"
import type { Input } from "../spec.ts"
import { bulkLines } from "./bulk.ts"

const add: Handler = (o: Input) =>
  runTracker(
    "dep add",
    Effect.map(Effect.flatMap(Tracker, (t) => t.addDependency(o.required("source"), o.required("target"))), (edge) => ({
      data: edge,
      text: `Added ${edgeLine(edge)}`
    }))
  )

const remove: Handler = (o: Input) =>
  runTracker(
    "dep remove",
    Effect.map(Effect.flatMap(Tracker, (t) => t.removeDependency(o.required("source"), o.required("target"))), (edge) => ({
      data: edge,
      text: `Removed ${edgeLine(edge)}`
    }))
  )

const list: Handler = (o: Input) =>
  runTracker(
    "dep list",
    Effect.gen(function*() {
      const queries = yield* Queries
      const id = o.text("id")
      const edges = id !== undefined
        ? yield* Effect.flatMap(Effect.flatMap(Tracker, (t) => t.findNode(id)), (n) =>
          Effect.map(queries.dependencies({ kind: n.kind, id: n.id }), (d) => [...d.dependsOn, ...d.dependedOnBy]))
        : yield* queries.allDependencies()
      return { data: edges, text: edges.length === 0 ? "No dependencies." : edges.map(edgeLine).join("\n") }
    })
  )

const addMany: Handler = (o: Input) =>
  runTracker(
    "dep add-many",
    Effect.gen(function*() {
      const lines = yield* bulkLines(o.list("edge"), o.text("file"), (edge) => {
        const [s, t] = edge.split(":")
        return { source: s, target: t }
      })
      const progress = progressLine((yield* Output).json, "dependencies written:")
      const result = yield* (yield* Bulk).addDependencies(lines, progress.report)
      progress.end()
      return { data: result, text: `Added ${result.added} dependencies` }
    })
  )

export const handlers: Record<string, Handler> = { "dep add": add, "dep remove": remove, "dep list": list, "dep add-many": addMany }
