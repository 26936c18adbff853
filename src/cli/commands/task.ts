import { Effect } from "effect"
import { Queries } from "../../projections/Queries.ts"
import { Bulk } from "../../tracker/Bulk.ts"
import { Tracker } from "../../tracker/Tracker.ts"
import type { Handler } from "../execute.ts"
import { Output, progressLine } from "../Output.ts"
import { entityLine, entityLines } from "../render.ts"
import { runReader, runTracker } from "../run.ts"
import type { Input } from "../spec.ts"
import { bulkLines } from "./bulk.ts"

/** The task and subtask commands beyond create/show/list/update/delete: claim, done, ready, create-many. */

const claim: Handler = (o: Input) =>
  runTracker(
    "task claim",
    Effect.map(Effect.flatMap(Tracker, (t) => t.claim(o.required("id"), o.required("owner"), o.integer("if-version"))), (r) => ({
      data: r,
      text: r.claimed ? `Claimed ${entityLine(r.task)}` : `Not claimed: ${o.required("id")} is owned by ${r.owner}`
    }))
  )

const done = (kind: "task" | "subtask"): Handler => (o: Input) =>
  runTracker(
    `${kind} done`,
    Effect.map(Effect.flatMap(Tracker, (t) => t.done(kind, o.required("id"), o.integer("if-version"))), (r) => ({
      data: r,
      text: `${r.changed ? "Done" : "Already done"}: ${entityLine(r.entity)}`
    }))
  )

const ready: Handler = (o: Input) =>
  runReader(
    "task ready",
    Effect.map(Effect.flatMap(Queries, (q) => q.readyTasks(o.text("epic"))), (tasks) => ({
      data: tasks,
      text: entityLines(tasks, "No ready tasks.")
    }))
  )

const createMany = (kind: "task" | "subtask"): Handler => (o: Input) =>
  runTracker(
    `${kind} create-many`,
    Effect.gen(function*() {
      const lines = yield* bulkLines(o.list("title"), o.text("file"), (title) => ({ title }))
      const progress = progressLine((yield* Output).json, `${kind}s written:`)
      const result = yield* (yield* Bulk).createMany(kind, o.text(kind === "task" ? "epic" : "task"), lines, progress.report)
      progress.end()
      return { data: result, text: `Created ${result.created} ${kind}s` }
    })
  )

export const handlers: Record<string, Handler> = {
  "task claim": claim,
  "task done": done("task"),
  "subtask done": done("subtask"),
  "task ready": ready,
  "task create-many": createMany("task"),
  "subtask create-many": createMany("subtask")
}
