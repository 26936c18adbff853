import { Effect } from "effect"
import { NotFound } from "../../errors/index.ts"
import { Queries } from "../../projections/Queries.ts"
import { Tracker } from "../../tracker/Tracker.ts"
import type { Handler } from "../execute.ts"
import { cell, entityLine, entityLines } from "../render.ts"
import { pageMeta, pageRequest } from "../paging.ts"
import { runCore, runReader } from "../run.ts"
import type { Input } from "../spec.ts"

/** The task and subtask commands beyond create/show/list/update/delete: claim, done, ready. */

const claim: Handler = (o: Input) =>
  runCore(
    "task claim",
    Effect.map(Effect.flatMap(Tracker, (t) => t.claim(o.required("id"), o.required("owner"), o.integer("if-version"))), (r) => ({
      data: r,
      text: r.claimed ? `Claimed ${entityLine(r.task)}` : `Not claimed: ${o.required("id")} is owned by ${cell(r.owner ?? "-", 40)}`
    }))
  )

const done = (kind: "task" | "subtask"): Handler => (o: Input) =>
  runCore(
    `${kind} done`,
    Effect.map(Effect.flatMap(Tracker, (t) => t.done(kind, o.required("id"), o.integer("if-version"))), (r) => ({
      data: r,
      text: `${r.changed ? "Done" : "Already done"}: ${entityLine(r.entity)}`
    }))
  )

const ready: Handler = (o: Input) =>
  runReader(
    "task ready",
    Effect.gen(function*() {
      const request = yield* pageRequest(o)
      const queries = yield* Queries
      const epic = o.text("epic")
      // An unknown epic is an error, not an empty answer: a typo must not read as "nothing to do".
      if (epic !== undefined && (yield* queries.epic(epic)) === undefined) {
        return yield* new NotFound({ message: `no epic with id ${epic}`, details: { kind: "epic", id: epic } })
      }
      const page = yield* queries.ready(epic, request)
      const { footer, meta } = pageMeta(page, request)
      return { data: page.rows, meta, text: [entityLines(page.rows, "No ready tasks."), ...footer].join("\n") }
    })
  )

export const handlers: Record<string, Handler> = {
  "task claim": claim,
  "task done": done("task"),
  "subtask done": done("subtask"),
  "task ready": ready
}
