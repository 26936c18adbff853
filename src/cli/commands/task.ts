import { Effect } from "effect"
import { NotFound } from "../../errors/index.ts"
import { Queries } from "../../projections/Queries.ts"
import type { Handler } from "../execute.ts"
import { entityLines } from "../render.ts"
import { pageMeta, pageRequest } from "../paging.ts"
import { runReader } from "../runReader.ts"
import type { Input } from "../spec.ts"

/** task ready; the work-flow commands (claim, done, note, ...) are in work.ts. */

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
  "task ready": ready
}
