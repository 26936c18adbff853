import { Context, Effect, Layer } from "effect"
import { draft, edgeId, type EventDraft } from "../events/Event.ts"
import { GitContext } from "../events/GitContext.ts"
import { localStreamId, streamName } from "../events/streams.ts"
import { GroveError, NotFound } from "../errors/index.ts"
import { makeConflictStore } from "../causality/ConflictStore.ts"
import { invariantId, type InvariantRecord, makeInvariantStore } from "../causality/InvariantStore.ts"
import { type Edge, type EntityRef, stillHolds } from "../projections/Invariants.ts"
import { trySqlite } from "../storage/errors.ts"
import { Sqlite } from "../storage/Sqlite.ts"
import { Writer } from "../write/Writer.ts"
import { Conflicts, type EventInfo, eventInfo, NothingToResolve } from "./Conflicts.ts"

export class ChoiceNotOffered extends GroveError("ChoiceNotOffered", "choice_not_offered") {}

/** One way to settle an invariant conflict: the `--use` value and what it writes. */
export interface Choice {
  readonly use: string
  readonly does: string
}

/** A cycle or an orphan in the live state, as `sync conflicts list/show` show it. */
export interface InvariantConflict {
  readonly kind: "invariant"
  /** `i<N>`: numbered apart from field conflicts. */
  readonly id: string
  readonly invariant: "cycle" | "orphan"
  readonly scope: { readonly worktree: string; readonly branch: string }
  /** A cycle's edges in path order (each depends on the next); empty for an orphan. */
  readonly edges: ReadonlyArray<Edge>
  /** An orphan's child (a task, subtask or dependency edge) and its parent that is not live; null for a cycle. */
  readonly child: EntityRef | null
  readonly parent: EntityRef | null
  /** What is wrong, in a sentence. */
  readonly problem: string
  /** The events behind it: each edge's latest write; the child's latest write and the parent's delete. */
  readonly events: ReadonlyArray<{ readonly role: "edge" | "child" | "parent"; readonly entity: string; readonly event: EventInfo | null }>
  readonly choices: ReadonlyArray<Choice>
  readonly status: "pending" | "settled"
  readonly settledBy: EventInfo | null
  readonly createdAt: string
  readonly settledAt: string | null
}

export interface InvariantResolution {
  readonly conflict: string
  readonly invariant: "cycle" | "orphan"
  readonly use: string
  readonly does: string
  /** The events written (or, with --dry-run, that would be written). */
  readonly writes: ReadonlyArray<{ readonly op: string; readonly entity: string; readonly field: string; readonly value: unknown }>
}

const problemOf = (r: InvariantRecord): string => {
  const v = r.violation
  if (v.invariant === "cycle") {
    const path = [...v.edges.map((e) => e.source.id), v.edges[0]!.source.id].join(" -> ")
    return `dependency cycle ${path}: none of these can finish first`
  }
  const child = v.child.kind === "dependency" ? `the dependency ${v.child.id.replace(">", " -> ")}` : `${v.child.kind} ${v.child.id}`
  return `${child} is live but its ${v.child.kind === "dependency" ? "end" : "parent"} ${v.parent.kind} ${v.parent.id} was deleted`
}

const choicesOf = (r: InvariantRecord): Array<Choice> => {
  const v = r.violation
  if (v.invariant === "cycle") {
    return v.edges.map((e) => ({
      use: `drop:${edgeId(e.source, e.target)}`,
      does: `remove the dependency ${e.source.id} -> ${e.target.id} (${e.source.id} no longer waits for ${e.target.id})`
    }))
  }
  return [
    { use: "restore", does: `bring ${v.parent.kind} ${v.parent.id} back from the log, with what its delete took (and its own parent if gone)` },
    { use: "delete", does: `confirm the delete of ${v.parent.kind} ${v.parent.id}: remove ${v.child.id} and whatever else still hangs off it` }
  ]
}

/** Listing, showing and resolving this scope's invariant conflicts (docs/sync.md, Invariant conflicts). */
export class InvariantConflicts extends Context.Tag("grove/InvariantConflicts")<InvariantConflicts, ReturnType<typeof makeInvariantConflicts>>() {
  static readonly layer = Layer.effect(
    InvariantConflicts,
    Effect.gen(function*() {
      return makeInvariantConflicts(yield* Sqlite, yield* GitContext, yield* Writer, yield* Conflicts)
    })
  )
}

const makeInvariantConflicts = (
  { db }: typeof Sqlite.Service,
  git: typeof GitContext.Service,
  writer: typeof Writer.Service,
  conflicts: typeof Conflicts.Service
) => {
  const store = makeInvariantStore(db)

  const view = (r: InvariantRecord): InvariantConflict => ({
    kind: "invariant",
    id: invariantId(r.id),
    invariant: r.violation.invariant,
    scope: { worktree: r.worktree, branch: streamName(db, r.streamId) },
    edges: r.violation.invariant === "cycle" ? r.violation.edges : [],
    child: r.violation.invariant === "orphan" ? r.violation.child : null,
    parent: r.violation.invariant === "orphan" ? r.violation.parent : null,
    problem: problemOf(r),
    events: r.behind.map((b) => ({ role: b.role, entity: b.entity, event: eventInfo(db, b.seq) })),
    choices: r.status === "pending" ? choicesOf(r) : [],
    status: r.status,
    settledBy: eventInfo(db, r.settledSeq),
    createdAt: new Date(r.createdAt).toISOString(),
    settledAt: r.settledAt === null ? null : new Date(r.settledAt).toISOString()
  })

  /** This worktree+branch's invariant conflicts: pending ones, or all with `all`. */
  const list = (options: { readonly all?: boolean } = {}) =>
    Effect.flatMap(git.resolve, (context) =>
      trySqlite(() => {
        const stream = localStreamId(db, context.stream)
        if (stream === undefined) return []
        // Pending records shown here belong to this worktree now, as for field conflicts.
        return store.inScope(context.worktree, stream, options).map((r) => view(r.status === "pending" ? { ...r, worktree: context.worktree } : r))
      }))

  const unknown = (id: number) => new NotFound({ message: `no conflict with id ${invariantId(id)}`, details: { id: invariantId(id) } })

  const show = (id: number) =>
    Effect.flatMap(trySqlite(() => store.byId(id)), (r) => (r === undefined ? Effect.fail(unknown(id)) : Effect.succeed(view(r))))

  /** The pending invariant conflicts of every scope, oldest first, at most `limit` (the board shows them all). */
  const pendingEverywhere = (limit: number) => trySqlite(() => store.pendingIds(limit).map((id) => view(store.byId(id)!)))

  /** The events that carry out one choice. */
  const plan = (r: InvariantRecord, use: string) => {
    const v = r.violation
    if (v.invariant === "cycle") {
      const edge = v.edges.find((e) => `drop:${edgeId(e.source, e.target)}` === use)!
      return Effect.succeed<Array<EventDraft>>([
        draft("conflict.resolved", { kind: "dependency", id: edgeId(edge.source, edge.target) }, {
          conflict: null,
          field: "presence",
          value: false,
          restored: { source: edge.source, target: edge.target }
        })
      ])
    }
    return use === "restore" ? conflicts.restoreEntity(v.parent.kind, v.parent.id, null) : conflicts.confirmDelete(v.parent.kind, v.parent.id, null)
  }

  /**
   * Settles one pending invariant conflict of this scope with one of its
   * choices, as `conflict.resolved` events on this branch (one transaction);
   * the write settles the record. `dryRun` computes and changes nothing.
   */
  const resolve = (id: number, use: string, dryRun: boolean) =>
    Effect.flatMap(git.resolve, (context) =>
      writer.write((emit) =>
        Effect.gen(function*() {
          const { record, exists, holds } = yield* trySqlite(() => {
            const stream = localStreamId(db, context.stream)
            // A resolve takes the branch's pending records of both kinds, as a relearn does at its event.
            if (stream !== undefined && !dryRun) store.adoptPending(context.worktree, stream), makeConflictStore(db).adoptPending(context.worktree, stream)
            const record = stream === undefined ? undefined : store.inScope(context.worktree, stream, { id })[0]
            return { record, exists: record !== undefined || store.byId(id) !== undefined, holds: record !== undefined && stillHolds(db, record.violation) }
          })
          if (!exists) return yield* unknown(id)
          if (record === undefined || !holds) {
            return yield* new NothingToResolve({
              message: `conflict ${invariantId(id)} is not pending in this scope (${context.stream} at ${context.worktree})${record !== undefined ? ": it no longer holds" : ""}`,
              details: { id: invariantId(id) }
            })
          }
          const choices = choicesOf(record)
          const choice = choices.find((c) => c.use === use)
          if (choice === undefined) {
            return yield* new ChoiceNotOffered({
              message: `conflict ${invariantId(id)} offers ${choices.map((c) => c.use).join(", ")}, not ${use}; nothing was written`,
              details: { id: invariantId(id), use, choices }
            })
          }
          const drafts = yield* plan(record, use)
          if (!dryRun) yield* emit(drafts)
          return {
            dryRun,
            resolutions: [{
              conflict: invariantId(id),
              invariant: record.violation.invariant,
              use,
              does: choice.does,
              writes: drafts.map((d) => {
                const p = d.payload as { field: string; value: unknown }
                return { op: d.op, entity: d.entityId, field: p.field, value: p.value }
              })
            } satisfies InvariantResolution]
          }
        })
      ))

  return { list, show, pendingEverywhere, resolve }
}
