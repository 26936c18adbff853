import { Effect, Either } from "effect"
import { debugFrom } from "../app/Config.ts"
import { isGroveFailure } from "../errors/index.ts"
import { failureEnvelope, failureExitCode, failureText, Output, type Reply, successEnvelope } from "./Output.ts"

/**
 * Runs one command's handler and prints its outcome as text or as the JSON
 * envelope, setting the exit code. Every coded failure is printed here; an
 * uncoded one is a defect and propagates.
 */
export const respond = <E, R>(command: string, handler: Effect.Effect<Reply, E, R>) =>
  Effect.gen(function*() {
    const output = yield* Output
    const started = performance.now()
    const meta = () => ({ version: output.version, elapsedMs: Math.round((performance.now() - started) * 10) / 10 })
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
      process.stdout.write(`${output.json ? successEnvelope(command, reply.data, meta()) : reply.text}\n`)
      process.exitCode = 0
      return
    }
    const failure = exit.left
    if (!isGroveFailure(failure)) return yield* Effect.die(failure)
    if (output.json) process.stdout.write(`${failureEnvelope(command, failure)}\n`)
    else process.stderr.write(`${failureText(failure)}\n`)
    process.exitCode = failureExitCode(failure)
  })
