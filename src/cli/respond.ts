import { Effect, Either } from "effect"
import { debugFrom } from "../app/Config.ts"
import { isGroveFailure } from "../errors/index.ts"
import { printFailure, printSuccess } from "./envelope.ts"
import { Output, type Reply } from "./Output.ts"

/**
 * Runs one command's handler and prints its outcome as text or as the
 * envelope, setting the exit code. Every coded failure is printed here; an
 * uncoded one is a defect and propagates.
 */
export const respond = <E, R>(command: string, handler: Effect.Effect<Reply, E, R>) =>
  Effect.gen(function*() {
    const output = yield* Output
    const started = performance.now()
    // A defect (a bug) is still answered with an envelope, under the `internal` code, rather than a stack trace.
    const exit = yield* Effect.either(handler).pipe(
      Effect.catchAllDefect((defect) => {
        if (debugFrom(process.env)) process.stderr.write(`${defect instanceof Error ? defect.stack : String(defect)}\n`)
        return Effect.succeed(Either.left({
          code: "internal" as const,
          message: `internal error: ${defect instanceof Error ? defect.message : String(defect)}`,
          details: {}
        }))
      })
    )
    if (exit._tag === "Right") {
      const reply = exit.right
      const meta = { version: output.version, elapsedMs: Math.round((performance.now() - started) * 10) / 10, ...reply.meta }
      return printSuccess(output.format, command, reply.data, meta, reply.text)
    }
    const failure = exit.left
    if (!isGroveFailure(failure)) return yield* Effect.die(failure)
    printFailure(output.format, command, failure)
  })
