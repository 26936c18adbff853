import type { Effect } from "effect"
import { withReader } from "../app/ReaderLayer.ts"
import type { Reply } from "./Output.ts"
import { respond } from "./respond.ts"

/** A read-only command: only the database and the projection reads are built, and no write-path module loads. */
export const runReader = <E, R>(command: string, handler: Effect.Effect<Reply, E, R>) =>
  respond(command, withReader(process.cwd())(handler))
