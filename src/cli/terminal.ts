import * as Terminal from "@effect/platform/Terminal"
import { Effect, Layer } from "effect"

/**
 * The Terminal @effect/cli asks for, without interactive input. grove never
 * prompts (agents run it unattended), and the platform terminal loads
 * node:readline and its streams: about 20 ms of every cold start (bun
 * --cpu-prof). Only the prompt-driven `--wizard` mode needs input; it ends
 * the way a closed stdin would.
 */
export const nonInteractiveTerminal = Layer.succeed(
  Terminal.Terminal,
  Terminal.Terminal.of({
    columns: Effect.sync(() => process.stdout.columns ?? 80),
    rows: Effect.sync(() => process.stdout.rows ?? 24),
    isTTY: Effect.sync(() => process.stdout.isTTY === true),
    readInput: Effect.dieMessage("grove does not read interactive input"),
    readLine: Effect.fail(new Terminal.QuitException()),
    display: (text) => Effect.sync(() => void process.stdout.write(text))
  })
)
