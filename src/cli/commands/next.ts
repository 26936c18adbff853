import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { Next } from "../../tracker/Next.ts"
import * as Flags from "../options.ts"
import { entityLine } from "../render.ts"
import { runTracker } from "../run.ts"
import { acting, lease, leaseMs, noteLine } from "./work.ts"

export const next = Command.make(
  "next",
  {
    epic: Options.text("epic").pipe(Options.withDescription("only this epic's tasks"), Options.optional),
    owner: acting,
    claim: Options.boolean("claim").pipe(Options.withDescription("claim the task in the same transaction that picks it")),
    lease
  },
  (o) =>
    runTracker(
      "next",
      Effect.gen(function*() {
        const r = yield* (yield* Next).next({
          epic: Flags.optional(o.epic),
          owner: Flags.optional(o.owner),
          claim: o.claim,
          lease: yield* leaseMs(o.lease)
        })
        if (r.task === null) {
          return {
            data: r,
            text: r.state === "finished" ? "Nothing left: every task is done." : `Nothing ready: ${r.open} open, ${r.inProgress} in progress elsewhere; try again later.`
          }
        }
        return {
          data: r,
          text: [
            `${r.resumed ? "Resume" : r.claimed ? "Claimed" : "Next"}: ${entityLine(r.task)}`,
            ...(r.epic === null ? [] : [`  epic: ${r.epic.id} ${r.epic.title}`]),
            ...(r.dependsOn.length ? [`  depends on: ${r.dependsOn.map((d) => `${d.id} [${d.status}]`).join(", ")}`] : []),
            ...(r.subtasks.length ? ["  subtasks:", ...r.subtasks.map((s) => `    ${entityLine(s)}`)] : []),
            ...(r.notes.length ? ["  notes:", ...r.notes.map((n) => `    ${noteLine(n)}`)] : [])
          ].join("\n")
        }
      })
    )
).pipe(
  Command.withDescription(
    "The best task for this agent: its own in-progress task first, else the ready task that unblocks the most work (then the oldest). --claim claims it atomically."
  )
)
