import type { Effect } from "effect"
import { withReader, withTracker } from "../app/AppLayer.ts"
import type { Reply } from "./Output.ts"
import { respond } from "./respond.ts"

/** A tracker command: the services over the migrated database, then one printed outcome. */
export const runTracker = <E, R>(command: string, handler: Effect.Effect<Reply, E, R>) =>
  respond(command, withTracker(process.cwd())(handler))

/** A read-only command: only the database and the projection reads are built. */
export const runReader = <E, R>(command: string, handler: Effect.Effect<Reply, E, R>) =>
  respond(command, withReader(process.cwd())(handler))
