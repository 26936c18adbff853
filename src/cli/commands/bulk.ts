import { Effect, Either } from "effect"
import { InvalidInput } from "../../errors/index.ts"
import { type BulkLine, parseJsonLines } from "../../tracker/Bulk.ts"
import * as Flags from "../options.ts"

/** Bulk input: repeated flags become lines 1..n; otherwise JSON lines from --file (or stdin with -). */
export const bulkLines = <A>(flagValues: ReadonlyArray<A>, file: string | undefined, toLine: (a: A) => unknown) =>
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
