import { Effect, Either } from "effect"
import { InvalidInput } from "../../errors/index.ts"
import { Bulk, type BulkLine, parseJsonLines } from "../../tracker/Bulk.ts"
import type { Handler } from "../execute.ts"
import * as Flags from "../options.ts"
import { Output, progressLine } from "../Output.ts"
import { runTracker } from "../runTracker.ts"
import type { Input } from "../spec.ts"

/** The bulk commands: create-many of tasks and subtasks, dep add-many, in one transaction each. */

/** Bulk input: repeated flags become lines 1..n; otherwise JSON lines from --file (or stdin with -). */
const bulkLines = <A>(flagValues: ReadonlyArray<A>, file: string | undefined, toLine: (a: A) => unknown) =>
  Effect.gen(function*() {
    if (flagValues.length > 0 && file !== undefined) {
      return yield* new InvalidInput({ message: "give either repeated flags or --file, not both", details: {} })
    }
    if (file !== undefined) {
      const parsed = parseJsonLines(yield* Flags.readInput(file))
      return Either.isLeft(parsed) ? yield* parsed.left : parsed.right
    }
    if (flagValues.length === 0) {
      return yield* new InvalidInput({ message: "nothing to create: give flags or --file", details: {} })
    }
    return flagValues.map((v, i): BulkLine => ({ line: i + 1, value: toLine(v) }))
  })

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
      return { data: result, text: [`Added ${result.added} dependencies`, ...(result.skipped ?? []).map((x) => `  skipped line ${x.line}: ${x.source} -> ${x.target} already exists`)].join("\n") }
    })
  )


export const handlers: Record<string, Handler> = {
  "task create-many": createMany("task"),
  "subtask create-many": createMany("subtask"),
  "dep add-many": addMany
}
