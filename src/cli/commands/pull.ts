import { Effect } from "effect"
import { withSync } from "../../app/SyncLayer.ts"
import { Sync } from "../../sync/Sync.ts"
import type { Handler } from "../execute.ts"
import { Output, progressLine } from "../Output.ts"
import { respond } from "../respond.ts"
import type { Input } from "../spec.ts"

/** sync status and sync pull: the Sync service alone, so they load no conflict, remote or watch modules. */

const runSync = <E, R>(command: string, handler: Effect.Effect<import("../Output.ts").Reply, E, R>) => respond(command, withSync(process.cwd())(handler))

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

const status: Handler = (o: Input) =>
  runSync(
    "sync status",
    Effect.map(Effect.flatMap(Sync, (s) => s.status(o.text("from"))), (r) => ({
      data: r,
      text: [
        `${r.currentBranch} vs ${r.sourceBranch}: ${r.behind} behind, ${r.ahead} ahead, ${plural(r.pendingConflicts, "pending conflict")}`,
        r.inheritedFrom === null
          ? `${r.currentBranch} started empty: no start point known (it knows what it wrote and pulled)`
          : `${r.currentBranch} started with what ${r.inheritedFrom} knew when it was created`
      ].join("\n")
    }))
  )

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

export const handlers: Record<string, Handler> = { "sync status": status, "sync pull": pull }
