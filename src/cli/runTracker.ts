import type { Effect } from "effect"
import { withTracker } from "../app/AppLayer.ts"
import type { Reply } from "./Output.ts"
import { respond } from "./respond.ts"

/** A command that needs bulk, sync, conflict, remote or replay services on top of the Tracker. */
export const runTracker = <E, R>(command: string, handler: Effect.Effect<Reply, E, R>) =>
  respond(command, withTracker(process.cwd())(handler))
