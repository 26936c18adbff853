import { Effect } from "effect"
import { applyPlan, parsePlan } from "../../tracker/Plan.ts"
import type { Handler } from "../execute.ts"
import { readInput } from "../options.ts"
import { cell } from "../render.ts"
import { runCore } from "../run.ts"
import type { Input } from "../spec.ts"

/** `plan apply` (docs/agents.md); apart from work.ts so that the plan's Schemas load only for it. */

const plan: Handler = (o: Input) =>
  runCore(
    "plan apply",
    Effect.gen(function*() {
      const r = yield* applyPlan(yield* parsePlan(yield* readInput(o.required("file"))))
      const c = r.created
      return {
        data: r,
        text: r.changed
          ? `Applied plan ${cell(r.plan, 60)} to epic ${r.epic}: created ${c.epics} epic, ${c.tasks} tasks, ${c.subtasks} subtasks, ${c.dependencies} dependencies`
          : `Plan ${cell(r.plan, 60)} is already applied to epic ${r.epic}: nothing changed`
      }
    })
  )

export const handlers: Record<string, Handler> = { "plan apply": plan }
