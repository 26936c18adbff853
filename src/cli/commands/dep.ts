import { Effect } from "effect"
import type { NodeRef } from "../../events/Event.ts"
import { Queries } from "../../projections/Queries.ts"
import { Tracker } from "../../tracker/Tracker.ts"
import type { Handler } from "../execute.ts"
import { edgeLine } from "../render.ts"
import { runTrackerAlone } from "../run.ts"
import type { Input } from "../spec.ts"

/** Idempotent: adding an edge that exists succeeds with changed:false (re-running a plan script must not fail). */
const add: Handler = (o: Input) =>
  runTrackerAlone(
    "dep add",
    Effect.flatMap(Tracker, (t) => t.addDependency(o.required("source"), o.required("target"), { force: o.flag("force") })).pipe(
      Effect.map((edge) => ({
        data: { ...edge, changed: true },
        text: `Added ${edgeLine(edge)}${edge.reopened ? `; reopened ${edge.source.id} to todo` : ""}`
      })),
      Effect.catchTag("DependencyExists", (e) => {
        const edge = e.details as { source: NodeRef; target: NodeRef }
        return Effect.succeed({ data: { ...edge, changed: false, reopened: false }, text: `Unchanged: ${edgeLine(edge)} already exists` })
      })
    )
  )

const remove: Handler = (o: Input) =>
  runTrackerAlone(
    "dep remove",
    Effect.map(Effect.flatMap(Tracker, (t) => t.removeDependency(o.required("source"), o.required("target"))), (edge) => ({
      data: edge,
      text: `Removed ${edgeLine(edge)}`
    }))
  )

const list: Handler = (o: Input) =>
  runTrackerAlone(
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

export const handlers: Record<string, Handler> = { "dep add": add, "dep remove": remove, "dep list": list }
