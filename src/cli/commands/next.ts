import { Effect } from "effect"
import { withPicker } from "../../app/ReaderLayer.ts"
import { whoActs } from "../../tracker/Acting.ts"
import { GitContext } from "../../events/GitContext.ts"
import { Pick } from "../../tracker/Pick.ts"
import type { Handler } from "../execute.ts"
import { leaseOf } from "../options.ts"
import type { Reply } from "../Output.ts"
import { cell, entityLine, noteLine } from "../render.ts"
import { respond } from "../respond.ts"
import type { Input } from "../spec.ts"

/**
 * `grove next` (docs/agents.md). Without --claim it only reads: the pick over
 * the projection (tracker/Pick.ts), with no write-path module loaded or built;
 * with --claim the write path is loaded when the command runs (tracker/Next.ts).
 */

type Answer = Effect.Effect.Success<ReturnType<typeof Pick.Service.answer>>

const reply = (r: Answer): Reply => {
  if (r.task === null) {
    return {
      data: r,
      text: r.state === "finished" ? "Nothing left: every task is done." : `Nothing ready: ${r.open} open, ${r.inProgress} in progress; try again later.`
    }
  }
  return {
    data: r,
    text: [
      `${r.resumed ? "Resume" : r.claimed ? "Claimed" : "Next"}: ${entityLine(r.task)}`,
      ...(r.epic === null ? [] : [`  epic: ${r.epic.id} ${cell(r.epic.title)}`]),
      ...(r.dependsOn.length ? [`  depends on: ${r.dependsOn.map((d) => `${d.id} [${d.status}]`).join(", ")}`] : []),
      ...(r.subtasks.length ? ["  subtasks:", ...r.subtasks.map((s) => `    ${entityLine(s)}`)] : []),
      ...(r.notes.length ? ["  notes:", ...r.notes.map((n) => `    ${noteLine(n)}`)] : [])
    ].join("\n")
  }
}

const next: Handler = (o: Input) => {
  const options = { epic: o.text("epic"), owner: o.text("owner") }
  if (o.flag("claim")) {
    return Effect.flatMap(Effect.promise(() => Promise.all([import("../run.ts"), import("../../tracker/Next.ts")])), ([{ runCore }, { Next }]) =>
      runCore(
        "next",
        Effect.gen(function*() {
          return reply(yield* (yield* Next).next({ ...options, claim: true, lease: yield* leaseOf(o) }))
        })
      ))
  }
  return respond(
    "next",
    withPicker(process.cwd())(Effect.gen(function*() {
      // --lease only matters to a claim, but a bad one is refused either way.
      yield* leaseOf(o)
      const who = yield* whoActs(yield* GitContext)(options)
      const pick = yield* Pick
      return reply(yield* pick.answer(who, yield* pick.choose(who, options.epic), false, options.epic))
    }))
  )
}

export const handlers: Record<string, Handler> = { next }
