import { makeInvariantStore } from "../causality/InvariantStore.ts"
import type { Database } from "bun:sqlite"
import { Context, Effect, Either, Layer } from "effect"
import { readStoredPayload, writesOf } from "../events/operations.ts"
import { draft, edgeId, type EventDraft, type NodeRef } from "../events/Event.ts"
import { GitContext } from "../events/GitContext.ts"
import { causedBy, entryBySeq, historiesOf } from "../events/log.ts"
import { type EntityKindName, Graph } from "../graph/Graph.ts"
import type { tableOf } from "../projections/tables.ts"
import { wallTimeOf } from "../events/hlc.ts"
import { deleted, entityFields } from "../events/writes.ts"
import { GroveError, InvalidInput, NotFound } from "../errors/index.ts"
import { type DatabaseBusy, type DatabaseError, trySqlite } from "../storage/errors.ts"
import { localStreamId, streamName } from "../events/streams.ts"
import { Sqlite } from "../storage/Sqlite.ts"
import { CausalState } from "../causality/CausalState.ts"
import type { ConflictRecord } from "../causality/ConflictStore.ts"
import { Queries } from "../projections/Queries.ts"
import { Writer } from "../write/Writer.ts"

export class ExpectMismatch extends GroveError("ExpectMismatch", "expect_mismatch") {}
export class NothingToResolve extends GroveError("NothingToResolve", "nothing_to_resolve") {}

/** An event behind one side of a conflict, with where it was written. */
export interface EventInfo {
  readonly seq: number
  readonly id: string
  readonly op: string
  readonly stream: string
  readonly worktree: string
  readonly head: string | null
  readonly actor: string
  readonly time: string
}

/** Which side `resolve` keeps: ours, theirs, or a side by its number in `sides` (1 is ours, 2 theirs). */
export type SideChoice = "ours" | "theirs" | number

/** One distinct value of a conflict with the maximal writes carrying it. */
export interface ConflictSideView {
  readonly side: number
  readonly value: unknown
  readonly events: ReadonlyArray<EventInfo>
}

export interface Conflict {
  /** Field conflicts; invariant ones (a cycle, an orphan) are `InvariantConflict`s (src/sync/InvariantConflicts.ts). */
  readonly kind: "field"
  readonly id: number
  readonly scope: { readonly worktree: string; readonly branch: string }
  readonly entity: { readonly kind: string; readonly id: string }
  readonly field: string
  readonly base: unknown
  readonly ours: unknown
  readonly theirs: unknown
  readonly status: "pending" | "settled"
  readonly baseEvent: EventInfo | null
  readonly oursEvent: EventInfo
  readonly theirsEvent: EventInfo
  /** Every distinct value among the maximal writes: two, or more when three or more branches disagree. */
  readonly sides: ReadonlyArray<ConflictSideView>
  readonly settledBy: EventInfo | null
  readonly createdAt: string
  readonly settledAt: string | null
}

export interface ResolveSelection {
  /** One conflict by id, or every pending one of this scope matching the filters. */
  readonly id?: number | undefined
  readonly entity?: string | undefined
  readonly field?: string | undefined
  /** Refuse unless exactly these conflicts match (what a --dry-run previewed). */
  readonly expect?: ReadonlyArray<number> | undefined
}

export interface Resolution {
  readonly conflict: number
  readonly entity: { readonly kind: string; readonly id: string }
  readonly field: string
  readonly base: unknown
  readonly ours: unknown
  readonly theirs: unknown
  readonly use: SideChoice
  readonly value: unknown
  /** The events written (or, with --dry-run, that would be written). */
  readonly writes: ReadonlyArray<{ readonly op: string; readonly entity: string; readonly field: string; readonly value: unknown }>
}

/** A stored side or base: JSON text, or ⊥ when the value is a delete's (shown as `{"deleted":true}`). */
const parse = (text: string | null): unknown => (text === null ? null : text === deleted ? { deleted: true } : JSON.parse(text))

/** An event's provenance, from its seq (null when there is none). */
export const eventInfo = (db: Database, seq: number | null): EventInfo | null => {
  const r = seq === null ? undefined : entryBySeq(db, seq)
  if (r === undefined) return null
  return { seq: r.seq, id: r.id, op: r.op, stream: r.stream, worktree: r.worktree, head: r.head, actor: r.actor, time: new Date(wallTimeOf(r.clock)).toISOString() }
}

/** Listing, showing and resolving this scope's conflicts. */
export class Conflicts extends Context.Tag("grove/Conflicts")<Conflicts, ReturnType<typeof makeConflicts>>() {
  static readonly layer = Layer.effect(
    Conflicts,
    Effect.gen(function*() {
      return makeConflicts(yield* Sqlite, yield* GitContext, yield* Writer, yield* Graph, yield* CausalState, yield* Queries)
    })
  )
}

const makeConflicts = (
  { db }: typeof Sqlite.Service,
  git: typeof GitContext.Service,
  writer: typeof Writer.Service,
  graph: typeof Graph.Service,
  { conflicts }: typeof CausalState.Service,
  queries: typeof Queries.Service
) => {
  const info = (seq: number | null) => eventInfo(db, seq)

  const view = (r: ConflictRecord): Conflict => ({
    kind: "field",
    id: r.id,
    scope: { worktree: r.worktree, branch: streamName(db, r.streamId) },
    entity: { kind: r.entityKind, id: r.entityId },
    field: r.field,
    base: parse(r.base),
    ours: parse(r.ours),
    theirs: parse(r.theirs),
    status: r.status,
    baseEvent: info(r.baseSeq),
    oursEvent: info(r.oursSeq)!,
    theirsEvent: info(r.theirsSeq)!,
    sides: r.sides.map((side, i) => ({ side: i + 1, value: parse(side.value), events: side.events.map((seq) => info(seq)!) })),
    settledBy: info(r.settledSeq),
    createdAt: new Date(r.createdAt).toISOString(),
    settledAt: r.settledAt === null ? null : new Date(r.settledAt).toISOString()
  })

  const streamOf = (branch: string) => localStreamId(db, branch)

  /** This worktree+branch's conflicts: pending ones, or all with `all`. */
  const list = (options: { readonly all?: boolean } = {}) =>
    Effect.flatMap(git.resolve, (context) =>
      trySqlite(() => {
        const stream = streamOf(context.stream)
        if (stream === undefined) return []
        // Pending records shown here belong to this worktree now, whatever the table says until the next write.
        return conflicts.inScope(context.worktree, stream, options).map((r) => view(r.status === "pending" ? { ...r, worktree: context.worktree } : r))
      }))

  const show = (id: number) =>
    Effect.flatMap(trySqlite(() => conflicts.byId(id)), (r) =>
      r === undefined
        ? Effect.fail(new NotFound({ message: `no conflict with id ${id}`, details: { id } }))
        : Effect.succeed(view(r)))

  /** The pending conflicts of every scope, oldest first, at most `limit` (the board shows them all). */
  const pendingEverywhere = (limit: number) => trySqlite(() => conflicts.pendingIds(limit).map((id) => view(conflicts.byId(id)!)))

  /** An entity's readable history in clock order (unreadable events are skipped, as everywhere). */
  const history = (entityId: string) =>
    historiesOf(db, [entityId], "oldest first").flatMap((h) => {
      const payload = readStoredPayload(h.op, h.payload)
      return Either.isRight(payload) ? [{ id: h.id, op: h.op, entityKind: h.entity_kind, clock: h.clock, payload: payload.right }] : []
    })

  /** The entity as its log last had it: every field's newest value that is not a delete. */
  const restoration = (entityId: string, kind: string) => {
    const events = history(entityId)
    const restored: Record<string, unknown> = {}
    let createdClock: number | undefined
    for (const h of events) {
      if (h.op.endsWith(".created")) createdClock ??= h.clock
      for (const w of writesOf(h)) {
        if (w.field !== "existence" && w.field !== "presence" && w.value !== deleted) restored[w.field] = JSON.parse(w.value)
      }
    }
    const fields = Object.fromEntries((entityFields[kind as keyof typeof entityFields] ?? []).filter((f) => f in restored).map((f) => [f, restored[f]]))
    // The version counts the writes that changed a field, as the projection does: notes and leases write none.
    const versioned = events.filter((h) => writesOf(h).length > 0).length
    return { restored: fields, version: versioned + 1, ...(createdClock === undefined ? {} : { createdClock }) }
  }

  const endpoints = (edgeId: string) => {
    const last = history(edgeId).filter((h) => h.op.startsWith("dependency.")).at(-1)
    const p = last!.payload as { source: NodeRef; target: NodeRef }
    return { source: p.source, target: p.target }
  }

  const isLive = (kind: string, id: string) => queries.isLive(kind as keyof typeof tableOf, id)

  /**
   * Choosing an edge's presence re-adds it under the rules `dep add` enforces (both ends live, no
   * cycle); the resolution is refused otherwise (choose the other side).
   */
  const checkEdge = (r: ConflictRecord, value: unknown) => {
    if (r.entityKind !== "dependency" || value !== true) return Effect.void
    const { source, target } = endpoints(r.entityId)
    return graph.checkReAdd(source, target, "; resolve with the other side").pipe(
      Effect.mapError((e) => (e._tag === "NotFound" ? new NotFound({ message: e.message, details: { conflict: r.id, ...e.details } }) : e))
    )
  }

  /** The value of the chosen side; a side number the record does not have is invalid_input. */
  const chosen = (r: ConflictRecord, use: SideChoice) => {
    const text = use === "ours" ? r.ours : use === "theirs" ? r.theirs : r.sides[use - 1]?.value
    return text === undefined
      ? Effect.fail(
        new InvalidInput({
          message: `conflict ${r.id} has ${r.sides.length} sides: --use takes ours, theirs or a side from 1 to ${r.sides.length}`,
          details: { conflict: r.id, use, sides: r.sides.length }
        })
      )
      : Effect.succeed(parse(text))
  }

  /** The events that settle one record with the chosen value. */
  const settle = (r: ConflictRecord, value: unknown) => {
    if (r.field === "existence" && value !== true) return confirmDelete(r.entityKind, r.entityId, r.id)
    return settleFromLog(r, value)
  }

  /** Confirming a delete removes what still hangs off the entity, as a delete would (no orphans, no dangling edges). */
  const confirmDelete = (kind: string, id: string, conflict: number | null) => {
    const root = draft("conflict.resolved", { kind: kind as "epic", id }, { conflict, field: "existence", value: false })
    return Effect.map(confirmCascade(kind, id, root.id), (cascade) => [root, ...cascade])
  }

  /** A settlement that writes the chosen value, or restores the entity and what its delete took, from the log. */
  const settleFromLog = (r: ConflictRecord, value: unknown) =>
    Effect.gen(function*() {
      const entity = { kind: r.entityKind as "epic", id: r.entityId }
      if (r.entityKind === "dependency") {
        const restored = yield* trySqlite(() => endpoints(r.entityId))
        return [draft("conflict.resolved", entity, { conflict: r.id, field: r.field, value, restored })]
      }
      if (r.field !== "existence") return [draft("conflict.resolved", entity, { conflict: r.id, field: r.field, value })]
      return yield* restoreEntity(r.entityKind, r.entityId, r.id)
    })

  /** Restores an entity from the log, then what its delete cascaded to, and its parents when they are gone. */
  const restoreEntity = (kind: string, id: string, conflict: number | null) =>
    Effect.gen(function*() {
      const entity = { kind: kind as "epic", id }
      const { root, cascade } = yield* trySqlite(() => {
        const root = draft("conflict.resolved", entity, { conflict, field: "existence", value: true, ...restoration(id, kind) })
        const lastDelete = history(id).findLast((h) => h.op.endsWith(".deleted"))
        const cascade = lastDelete === undefined ? [] : causedBy(db, lastDelete.id).map((e) => ({ kind: e.entity_kind, id: e.entity_id }))
        return { root, cascade }
      })
      const parents = yield* restoreParents(kind, root.payload as { restored?: Record<string, unknown> }, root.id)
      // An edge comes back only when both of its ends are live or come back in this resolution.
      const back = new Set([id, ...parents.map((p) => p.entityId), ...cascade.filter((c) => c.kind !== "dependency").map((c) => c.id)])
      const children: Array<EventDraft> = []
      for (const c of cascade) {
        if (c.kind !== "dependency") {
          const state = yield* trySqlite(() => restoration(c.id, c.kind))
          children.push(draft("conflict.resolved", { kind: c.kind as "task", id: c.id }, { conflict: null, field: "existence", value: true, ...state }, { causeId: root.id }))
          continue
        }
        let endsBack = true
        for (const end of c.id.split(">")) endsBack &&= back.has(end) || (yield* isLive(end.startsWith("s-") ? "subtask" : "task", end))
        if (endsBack) {
          const restored = yield* trySqlite(() => endpoints(c.id))
          children.push(draft("conflict.resolved", { kind: "dependency", id: c.id }, { conflict: null, field: "presence", value: true, restored }, { causeId: root.id }))
        }
      }
      return [root, ...parents, ...children]
    })

  /** Confirming a delete takes what a delete takes (Graph.subtree): edges, then subtasks, then tasks. */
  const confirmCascade = (kind: string, id: string, causeId: string) =>
    Effect.map(graph.subtree(kind as EntityKindName, id), ({ tasks, subtasks, edges }): Array<EventDraft> => {
      const gone = (x: { readonly kind: "task" | "subtask"; readonly id: string }) =>
        draft("conflict.resolved", x, { conflict: null, field: "existence", value: false }, { causeId })
      return [
        ...edges.map((e) => draft("conflict.resolved", { kind: "dependency", id: edgeId(e.source, e.target) }, { conflict: null, field: "presence", value: false, restored: e }, { causeId })),
        ...subtasks.filter((x) => x.id !== id).map(gone),
        ...tasks.map(gone)
      ]
    })

  /**
   * A restored task or subtask whose parent is gone would be an orphan, which
   * the domain forbids: its parent (and the parent's parent) come back too.
   */
  const restoreParents = (kind: string, payload: { restored?: Record<string, unknown> }, causeId: string): Effect.Effect<Array<EventDraft>, DatabaseError | DatabaseBusy> =>
    Effect.gen(function*() {
      const parentKind = kind === "task" ? "epic" : kind === "subtask" ? "task" : undefined
      const parentId = parentKind === undefined ? undefined : payload.restored?.[parentKind]
      if (parentKind === undefined || typeof parentId !== "string" || (yield* isLive(parentKind, parentId))) return []
      const parentState = yield* trySqlite(() => restoration(parentId, parentKind))
      const parent = draft("conflict.resolved", { kind: parentKind as "task", id: parentId }, { conflict: null, field: "existence", value: true, ...parentState }, { causeId })
      return [parent, ...(yield* restoreParents(parentKind, parentState, causeId))]
    })

  /**
   * Settles pending conflicts of this scope with one side, as conflict.resolved
   * events on this branch (one transaction). `dryRun` computes and changes nothing.
   */
  const resolve = (selection: ResolveSelection, use: SideChoice, dryRun: boolean) =>
    Effect.flatMap(git.resolve, (context) =>
      writer.write((emit) =>
        Effect.gen(function*() {
          const matched = yield* trySqlite(() => {
            const stream = streamOf(context.stream)
            if (stream === undefined) return []
            // A resolve takes the branch's pending records of both kinds, as a relearn does at its event.
            if (!dryRun) conflicts.adoptPending(context.worktree, stream), makeInvariantStore(db).adoptPending(context.worktree, stream)
            return conflicts.inScope(context.worktree, stream, { filter: selection })
          })
          // An id no scope has is unknown, as in `sync conflicts show`; one that exists elsewhere or is settled is nothing to resolve.
          if (matched.length === 0 && selection.id !== undefined && (yield* trySqlite(() => conflicts.byId(selection.id!))) === undefined) {
            return yield* new NotFound({ message: `no conflict with id ${selection.id}`, details: { id: selection.id } })
          }
          if (matched.length === 0) {
            return yield* new NothingToResolve({
              message: selection.id !== undefined
                ? `conflict ${selection.id} is not pending in this scope (${context.stream} at ${context.worktree})`
                : `no pending conflict in this scope (${context.stream} at ${context.worktree}) matches`,
              details: { ...selection }
            })
          }
          if (selection.expect !== undefined) {
            const want = [...selection.expect].sort((a, b) => a - b)
            const got = matched.map((r) => r.id)
            if (want.length !== got.length || want.some((id, i) => id !== got[i])) {
              return yield* new ExpectMismatch({
                message: `the matched conflicts (${got.join(",")}) differ from --expect (${want.join(",")}); nothing was written`,
                details: { expected: want, matched: got }
              })
            }
          }
          const values = yield* Effect.forEach(matched, (r) => chosen(r, use))
          for (const [i, r] of matched.entries()) yield* checkEdge(r, values[i])
          const plans = yield* Effect.forEach(matched, (r, i) => Effect.map(settle(r, values[i]), (drafts) => ({ r, drafts, value: values[i] })))
          if (!dryRun) yield* emit(plans.flatMap((p) => p.drafts))
          return {
            dryRun,
            resolutions: plans.map(({ r, drafts, value }): Resolution => ({
              conflict: r.id,
              entity: { kind: r.entityKind, id: r.entityId },
              field: r.field,
              base: parse(r.base),
              ours: parse(r.ours),
              theirs: parse(r.theirs),
              use,
              value,
              writes: drafts.map((d) => {
                const p = d.payload as { field: string; value: unknown }
                return { op: d.op, entity: d.entityId, field: p.field, value: p.value }
              })
            }))
          }
        })
      ))

  return { list, show, pendingEverywhere, resolve, restoreEntity, confirmDelete }
}
