import { Context, Effect, Layer } from "effect"
import { Queries, type Task } from "../projections/Queries.ts"
import { type Candidate, Work } from "../projections/Work.ts"

/** What `next` chose: the agent's own task in progress (resumed), or the best ready candidate. */
export interface Picked {
  readonly task: Task | Candidate
  readonly resumed: boolean
}

/**
 * The reads of `grove next`: which task, and what the agent needs to start
 * on it. Apart from Next.ts (which claims the pick in a write transaction) so
 * that `next` without `--claim` loads and builds no write path.
 */
export class Pick extends Context.Tag("grove/Pick")<Pick, ReturnType<typeof makePick>>() {
  static readonly layer = Layer.effect(
    Pick,
    Effect.gen(function*() {
      return makePick(yield* Work, yield* Queries)
    })
  )
}

const makePick = (work: typeof Work.Service, queries: typeof Queries.Service) => {
  /** What an agent needs to start on `task`: its epic, dependencies and their state, subtasks, notes. */
  const context = (task: Task) =>
    Effect.gen(function*() {
      const epic = yield* queries.epic(task.epicId)
      const { dependsOn, dependedOnBy } = yield* queries.dependencies({ kind: "task", id: task.id })
      const state = (kind: "task" | "subtask", id: string) =>
        Effect.map((kind === "task" ? queries.task(id) : queries.subtask(id)) as Effect.Effect<Task | undefined, Effect.Effect.Error<ReturnType<typeof queries.task>>>, (n) => ({ kind, id, title: n?.title ?? null, status: n?.status ?? null }))
      return {
        epic: epic === undefined ? null : { id: epic.id, title: epic.title, status: epic.status },
        dependsOn: yield* Effect.forEach(dependsOn, (d) => state(d.target.kind, d.target.id)),
        dependedOnBy: yield* Effect.forEach(dependedOnBy, (d) => state(d.source.kind, d.source.id)),
        subtasks: yield* queries.subtasks(task.id),
        notes: yield* work.notes(task.id),
        lease: yield* work.lease(task.id)
      }
    })

  /** Why there is nothing to pick: every task in scope is done, or the rest waits on others. */
  const idle = (epic: string | undefined) =>
    Effect.map(queries.tasks({ epic }), (tasks) => {
      const open = tasks.filter((t) => t.status !== "done")
      return {
        state: open.length === 0 ? ("finished" as const) : ("waiting" as const),
        open: open.length,
        inProgress: open.filter((t) => t.status === "in_progress").length
      }
    })

  /** First `who`'s own tasks in progress (resume before starting anything), then ready tasks ranked by Work.candidates. */
  const choose = (who: string, epic: string | undefined) =>
    Effect.gen(function*() {
      const mine = (yield* work.inProgressOf(who, epic))[0]
      if (mine !== undefined) return { task: mine, resumed: true } as Picked
      const best = (yield* work.candidates({ epic, who, now: Date.now(), limit: 1 }))[0]
      return best === undefined ? undefined : ({ task: best, resumed: false } as Picked)
    })

  /** The answer of `next` for what was picked; `claimed`: whether a claim was asked for (a resumed task is held already). */
  const answer = (who: string, picked: Picked | undefined, claimed: boolean, epic: string | undefined) =>
    Effect.gen(function*() {
      if (picked === undefined) return { owner: who, task: null, claimed: false, ...(yield* idle(epic)) }
      const task = (yield* queries.task(picked.task.id))!
      const candidate = picked.task as Partial<Candidate>
      return {
        owner: who,
        task,
        claimed: claimed || picked.resumed,
        resumed: picked.resumed,
        unblocks: candidate.unblocks ?? null,
        previousOwner: !picked.resumed && candidate.lease != null && candidate.owner !== who ? candidate.owner ?? null : null,
        ...(yield* context(task))
      }
    })

  /** The best candidate without claiming or resuming: what `done` suggests next. */
  const peek = (who: string, epic: string | undefined) =>
    Effect.map(work.candidates({ epic, who, now: Date.now(), limit: 1 }), (c) => c[0] ?? null)

  return { choose, answer, peek }
}
