import { Context, Effect, Layer } from "effect"
import { Queries, type Task } from "../projections/Queries.ts"
import { type Candidate, Work } from "../projections/Work.ts"
import { type Emit, Writer } from "../write/Writer.ts"
import { type Acting, Claims } from "./Claims.ts"

export interface NextOptions extends Acting {
  readonly epic?: string | undefined
  /** Claim the pick in the same transaction that chose it. */
  readonly claim?: boolean | undefined
  readonly lease?: number | undefined
}

/**
 * `grove next`: the best task for this agent. First its own tasks in
 * progress (resume before starting anything), then ready tasks ranked by
 * Work.candidates (most work unblocked, then oldest). With claim, choosing
 * and claiming happen in one write transaction, so two agents never get the
 * same task.
 */
export class Next extends Context.Tag("grove/Next")<Next, ReturnType<typeof makeNext>>() {
  static readonly layer = Layer.effect(
    Next,
    Effect.gen(function*() {
      return makeNext(yield* Writer, yield* Claims, yield* Work, yield* Queries)
    })
  )
}

const makeNext = (writer: typeof Writer.Service, claims: typeof Claims.Service, work: typeof Work.Service, queries: typeof Queries.Service) => {
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

  const choose = (who: string, options: NextOptions, emit: Emit | undefined) =>
    Effect.gen(function*() {
      const mine = (yield* work.inProgressOf(who, options.epic))[0]
      if (mine !== undefined) {
        if (emit !== undefined) yield* claims.renewAround(emit, mine, who)
        return { task: mine as Task | Candidate, resumed: true }
      }
      const best = (yield* work.candidates({ epic: options.epic, who, now: Date.now(), limit: 1 }))[0]
      if (best === undefined) return undefined
      if (emit !== undefined) yield* claims.claimIn(emit, "task", best.id, who, { owner: who, lease: options.lease })
      return { task: best as Task | Candidate, resumed: false }
    })

  const next = (options: NextOptions) =>
    Effect.gen(function*() {
      const who = yield* claims.whoActs(options)
      // A read first: when there is nothing to pick, polling agents take no write lock.
      const seen = yield* choose(who, options, undefined)
      const picked = options.claim === true && seen !== undefined
        ? yield* writer.write((emit) => choose(who, options, emit))
        : seen
      if (picked === undefined) return { owner: who, task: null, claimed: false, ...(yield* idle(options.epic)) }
      const task = (yield* queries.task(picked.task.id))!
      const candidate = picked.task as Partial<Candidate>
      return {
        owner: who,
        task,
        claimed: options.claim === true || picked.resumed,
        resumed: picked.resumed,
        unblocks: candidate.unblocks ?? null,
        previousOwner: !picked.resumed && candidate.lease != null && candidate.owner !== who ? candidate.owner ?? null : null,
        ...(yield* context(task))
      }
    })

  /** The best candidate without claiming or resuming: what `done` suggests next. */
  const peek = (who: string, epic: string | undefined) =>
    Effect.map(work.candidates({ epic, who, now: Date.now(), limit: 1 }), (c) => c[0] ?? null)

  return { next, peek, context }
}
