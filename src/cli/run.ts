import type { Effect } from "effect"
import { withCore, withTrackerAlone } from "../app/CoreLayer.ts"
import type { Reply } from "./Output.ts"
import { respond } from "./respond.ts"

/** A single-item command of the agent's loop: the Tracker, claims, picks and next over the write path (no bulk, sync or remote modules load). */
export const runCore = <E, R>(command: string, handler: Effect.Effect<Reply, E, R>) =>
  respond(command, withCore(process.cwd())(handler))

/** A create, update, delete or link: the Tracker over the write path, without the agent's loop. */
export const runTrackerAlone = <E, R>(command: string, handler: Effect.Effect<Reply, E, R>) =>
  respond(command, withTrackerAlone(process.cwd())(handler))
