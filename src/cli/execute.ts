import * as BunRuntime from "@effect/platform-bun/BunRuntime"
import type { Effect } from "effect"
import * as E from "effect/Effect"
import type { Format } from "./parse.ts"
import { Output } from "./Output.ts"
import type { Input } from "./spec.ts"
import { version } from "./version.ts"

/** A command's handler: the parsed command line in, one printed outcome (respond) out. */
export type Handler = (input: Input) => Effect.Effect<void, unknown, Output>

/** Runs a handler to completion; SIGINT and SIGTERM interrupt it (sync watch stops cleanly). */
export const execute = (handler: unknown, input: Input, format: Format) =>
  BunRuntime.runMain(
    (handler as Handler)(input).pipe(E.provideService(Output, { format, json: format !== "text", version })),
    { disableErrorReporting: false, disablePrettyLogger: true }
  )
