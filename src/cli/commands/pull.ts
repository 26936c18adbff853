import { Effect } from "effect"
import { withSync } from "../../app/SyncLayer.ts"
import { Sync } from "../../sync/Sync.ts"
import type { Handler } from "../execute.ts"
import { Output, progressLine } from "../Output.ts"
import { plural } from "../render.ts"
import { respond } from "../respond.ts"
import type { Input } from "../spec.ts"

/** sync pull: the Sync service alone, so it loads no conflict, remote or watch modules (sync status is status.ts). */

const runSync = <E, R>(command: string, handler: Effect.Effect<import("../Output.ts").Reply, E, R>) => respond(command, withSync(process.cwd())(handler))

const pull: Handler = (o: Input) =>
  runSync(
    "sync pull",
    Effect.gen(function*() {
      const progress = progressLine((yield* Output).json, "learnt events:")
      const r = yield* (yield* Sync).pull(o.text("from"), progress.report ? { onProgress: progress.report } : {})
      progress.end()
      return {
        data: r,
        text: [
          `Pulled ${r.sourceBranch} into ${r.currentBranch}: ${r.scanned} events, ${plural(r.conflictsCreated, "conflict")} created, ${r.conflictsSettled} settled`,
          ...(r.quarantined > 0
            ? [`Quarantined ${r.quarantined}: ${Object.entries(r.quarantinedByReason).map(([k, n]) => `${k} ${n}`).join(", ")}`]
            : [])
        ].join("\n")
      }
    })
  )

export const handlers: Record<string, Handler> = { "sync pull": pull }
