import { Args, Command } from "@effect/cli"
import { Effect } from "effect"
import { applyPlan, parsePlan } from "../../tracker/Plan.ts"
import * as Flags from "../options.ts"
import { runTracker } from "../run.ts"

const apply = Command.make("apply", { file: Args.text({ name: "file" }).pipe(Args.withDescription("the plan: JSON or JSON lines (- for stdin)")) }, (o) =>
  runTracker(
    "plan apply",
    Effect.gen(function*() {
      const plan = yield* parsePlan(yield* Flags.readInput(o.file))
      const r = yield* applyPlan(plan)
      const c = r.created
      return {
        data: r,
        text: r.changed
          ? `Applied plan ${r.plan} to epic ${r.epic}: created ${c.epics} epic, ${c.tasks} tasks, ${c.subtasks} subtasks, ${c.dependencies} dependencies`
          : `Plan ${r.plan} is already applied to epic ${r.epic}: nothing changed`
      }
    })
  )).pipe(
    Command.withDescription(
      "Create an epic with its tasks, subtasks and dependencies, addressed by temporary keys, in one transaction. Re-running changes nothing; an edited plan adds what is new (docs/agents.md)."
    )
  )

export const plan = Command.make("plan").pipe(Command.withDescription("Plans: a whole epic in one call."), Command.withSubcommands([apply]))
