import type { Effect } from "effect"
import { withCore } from "../app/CoreLayer.ts"
import type { Reply } from "./Output.ts"
import { respond } from "./respond.ts"

/** A single-item command: the Tracker and its write path only (no bulk, sync or remote modules load). */
export const runCore = <E, R>(command: string, handler: Effect.Effect<Reply, E, R>) =>
  respond(command, withCore(process.cwd())(handler))
