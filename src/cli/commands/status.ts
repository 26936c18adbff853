import { Effect } from "effect"
import { withStatus } from "../../app/StatusLayer.ts"
import { SyncStatus } from "../../sync/Status.ts"
import type { Handler } from "../execute.ts"
import { plural } from "../render.ts"
import { respond } from "../respond.ts"
import type { Input } from "../spec.ts"

/** sync status: a read over SyncStatus alone, so it loads and builds none of the write path (sync pull is pull.ts). */

const status: Handler = (o: Input) =>
  respond(
    "sync status",
    withStatus(process.cwd())(Effect.map(Effect.flatMap(SyncStatus, (s) => s.status(o.text("from"))), (r) => ({
      data: r,
      text: [
        `${r.currentBranch} vs ${r.sourceBranch}: ${r.behind} behind, ${r.ahead} ahead, ${plural(r.pendingConflicts, "pending conflict")}`,
        r.inheritedFrom === null
          ? `${r.currentBranch} started empty: no start point known (it knows what it wrote and pulled)`
          : `${r.currentBranch} started with what ${r.inheritedFrom} knew when it was created`
      ].join("\n")
    })))
  )

export const handlers: Record<string, Handler> = { "sync status": status }
