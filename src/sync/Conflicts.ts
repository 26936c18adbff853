import { Context, Effect, Either, Layer } from "effect"
import { readStoredPayload, writesOf } from "../events/operations.ts"
import { draft, edgeId, type EventDraft, type NodeRef } from "../events/Event.ts"
import { GitContext } from "../events/GitContext.ts"
import { wallTimeOf } from "../events/hlc.ts"
import { deleted, entityFields } from "../events/writes.ts"
import { GroveError, NotFound } from "../errors/index.ts"
import { trySqlite } from "../storage/errors.ts"
import { localStreamId } from "../events/streams.ts"
import { Sqlite } from "../storage/Sqlite.ts"
import { adoptPending, inScope, inScopeParams } from "./scope.ts"
import { Writer } from "../write/Writer.ts"

export class ExpectMismatch extends GroveError("ExpectMismatch", "expect_mismatch") {}
export class NothingToResolve extends GroveError("NothingToResolve", "nothing_to_resolve") {}
export class ResolutionCycle extends GroveError("ResolutionCycle", "dependency_cycle") {}

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

export interface Conflict {
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
  readonly use: "ours" | "theirs"
  readonly value: unknown
  /** The events written (or, with --dry-run, that would be written). */
  readonly writes: ReadonlyArray<{ readonly op: string; readonly entity: string; readonly field: string; readonly value: unknown }>
}

type ConflictRow = {
  id: number
  worktree: string
  branch: string
  entity_kind: string
  entity_id: string
  field: string
  base: string | null
  base_seq: number | null
  ours: string
  ours_seq: number
  theirs: string
  theirs_seq: number
  status: "pending" | "settled"
  settled_seq: number | null
  created_at: number
  settled_at: number | null
}

/** A stored side or base: JSON text, or ⊥ when the value is a delete's (shown as `{"deleted":true}`). */
const parse = (text: string | null): unknown => (text === null ? null : text === deleted ? { deleted: true } : JSON.parse(text))

/** Listing, showing and resolving this scope's conflicts. */
export class Conflicts extends Context.Tag("grove/Conflicts")<Conflicts, ReturnType<typeof makeConflicts>>() {
  static readonly layer = Layer.effect(
    Conflicts,
    Effect.gen(function*() {
      return makeConflicts(yield* Sqlite, yield* GitContext, yield* Writer)
    })
  )
}

const makeConflicts = ({ db }: typeof Sqlite.Service, git: typeof GitContext.Service, writer: typeof Writer.Service) => {
  const eventInfo = (seq: number | null): EventInfo | null => {
    if (seq === null) return null
    const r = db.query(
      `SELECT e.seq, e.id, e.op, s.name AS stream, t.worktree, t.head, t.actor, e.clock
       FROM events e JOIN transactions t ON t.id = e.tx_id JOIN streams s ON s.id = e.stream_id WHERE e.seq = ?`
    ).get(seq) as (Omit<EventInfo, "time"> & { clock: number }) | null
    if (r === null) return null
    const { clock, ...rest } = r
    return { ...rest, time: new Date(wallTimeOf(clock)).toISOString() }
  }

  const view = (r: ConflictRow): Conflict => ({
    id: r.id,
    scope: { worktree: r.worktree, branch: r.branch },
    entity: { kind: r.entity_kind, id: r.entity_id },
    field: r.field,
    base: parse(r.base),
    ours: parse(r.ours),
    theirs: parse(r.theirs),
    status: r.status,
    baseEvent: eventInfo(r.base_seq),
    oursEvent: eventInfo(r.ours_seq)!,
    theirsEvent: eventInfo(r.theirs_seq)!,
    settledBy: eventInfo(r.settled_seq),
    createdAt: new Date(r.created_at).toISOString(),
    settledAt: r.settled_at === null ? null : new Date(r.settled_at).toISOString()
  })

  const select = `SELECT c.*, s.name AS branch FROM conflicts c JOIN streams s ON s.id = c.stream_id`

  const streamOf = (branch: string) => localStreamId(db, branch)

  /** This worktree+branch's conflicts: pending ones, or all with `all`. */
  const list = (options: { readonly all?: boolean } = {}) =>
    Effect.flatMap(git.resolve, (context) =>
      trySqlite(() =>
        {
          const stream = streamOf(context.stream)
          if (stream === undefined) return []
          const rows = db.query(`${select} WHERE ${inScope("c")} ${options.all ? "" : "AND c.status = 'pending'"} ORDER BY c.id`)
            .all(...inScopeParams(context.worktree, stream)) as Array<ConflictRow>
          // Pending records shown here belong to this worktree now, whatever the table says until the next write.
          return rows.map((r) => view(r.status === "pending" ? { ...r, worktree: context.worktree } : r))
        }
      ))

  const show = (id: number) =>
    Effect.flatMap(trySqlite(() => db.query(`${select} WHERE c.id = ?`).get(id) as ConflictRow | null), (r) =>
      r === null
        ? Effect.fail(new NotFound({ message: `no conflict with id ${id}`, details: { id } }))
        : Effect.succeed(view(r)))

  /** An entity's readable history in clock order (unreadable events are skipped, as everywhere). */
  const history = (entityId: string) =>
    (db.query("SELECT op, entity_kind AS entityKind, payload, clock FROM events WHERE entity_id = ? ORDER BY clock, id").all(entityId) as Array<
      { op: string; entityKind: string; payload: string; clock: number }
    >).flatMap((h) => {
      const payload = readStoredPayload(h.op, h.payload)
      return Either.isRight(payload) ? [{ ...h, payload: payload.right }] : []
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
    return { restored: fields, version: events.length + 1, ...(createdClock === undefined ? {} : { createdClock }) }
  }

  const endpoints = (edgeId: string) => {
    const last = history(edgeId).filter((h) => h.op.startsWith("dependency.")).at(-1)
    const p = last!.payload as { source: NodeRef; target: NodeRef }
    return { source: p.source, target: p.target }
  }

  const isLive = (kind: string, id: string) => {
    const table = kind === "epic" ? "epics" : kind === "task" ? "tasks" : "subtasks"
    return db.query(`SELECT 1 FROM ${table} WHERE id = ?`).get(id) !== null
  }

  /**
   * Choosing an edge's presence re-adds it: both ends must exist and it must not close a cycle, the
   * same rules `dep add` enforces. The resolution is refused otherwise (choose the other side).
   */
  const checkEdge = (r: ConflictRow, use: "ours" | "theirs"): Effect.Effect<void, NotFound | ResolutionCycle> => {
    if (r.entity_kind !== "dependency" || parse(use === "ours" ? r.ours : r.theirs) !== true) return Effect.void
    const { source, target } = endpoints(r.entity_id)
    const present = db.query("SELECT 1 FROM dependencies WHERE source_id = ? AND target_id = ?").get(source.id, target.id) !== null
    if (present) return Effect.void
    const gone = [source, target].find((end) => !isLive(end.kind, end.id))
    if (gone !== undefined) {
      return Effect.fail(new NotFound({ message: `cannot re-add ${r.entity_id}: ${gone.kind} ${gone.id} no longer exists; resolve with the other side`, details: { conflict: r.id, missing: gone } }))
    }
    const cycle = db.query(
      `WITH RECURSIVE reach(id) AS (SELECT ? UNION SELECT d.target_id FROM dependencies d JOIN reach r ON d.source_id = r.id)
       SELECT 1 FROM reach WHERE id = ? LIMIT 1`
    ).get(target.id, source.id) !== null
    return cycle
      ? Effect.fail(new ResolutionCycle({ message: `re-adding ${r.entity_id} would form a cycle: ${target.id} already depends on ${source.id}; resolve with the other side`, details: { conflict: r.id, source, target } }))
      : Effect.void
  }

  /** The events that settle one record with the chosen side. */
  const settle = (r: ConflictRow, use: "ours" | "theirs"): Array<EventDraft> => {
    const value = parse(use === "ours" ? r.ours : r.theirs)
    const entity = { kind: r.entity_kind as "epic", id: r.entity_id }
    if (r.entity_kind === "dependency") {
      return [draft("conflict.resolved", entity, { conflict: r.id, field: r.field, value, restored: endpoints(r.entity_id) })]
    }
    if (r.field !== "existence") return [draft("conflict.resolved", entity, { conflict: r.id, field: r.field, value })]
    if (value !== true) {
      // Confirming a delete removes what still hangs off the entity, as a delete would (no orphans, no dangling edges).
      const root = draft("conflict.resolved", entity, { conflict: r.id, field: "existence", value: false })
      return [root, ...confirmCascade(r.entity_kind, r.entity_id, root.id)]
    }
    // Restore the entity, then what its delete cascaded to, each from the log.
    const root = draft("conflict.resolved", entity, { conflict: r.id, field: "existence", value: true, ...restoration(r.entity_id, r.entity_kind) })
    const lastDelete = db.query("SELECT id FROM events WHERE entity_id = ? AND op LIKE '%.deleted' ORDER BY clock DESC, id DESC LIMIT 1").get(r.entity_id) as
      | { id: string }
      | null
    const cascade = lastDelete === null ? [] : db.query("SELECT entity_kind AS kind, entity_id AS id FROM events WHERE cause_id = ? ORDER BY seq").all(lastDelete.id) as Array<
      { kind: string; id: string }
    >
    const parents = restoreParents(r.entity_kind, root.payload as { restored?: Record<string, unknown> }, root.id)
    // An edge comes back only when both of its ends are live or come back in this resolution.
    const back = new Set([r.entity_id, ...parents.map((p) => p.entityId), ...cascade.filter((c) => c.kind !== "dependency").map((c) => c.id)])
    const children = cascade.flatMap((c): Array<EventDraft> =>
      c.kind === "dependency" && !c.id.split(">").every((end) => back.has(end) || isLive(end.startsWith("s-") ? "subtask" : "task", end))
        ? []
        : c.kind === "dependency"
        ? [draft("conflict.resolved", { kind: "dependency", id: c.id }, { conflict: null, field: "presence", value: true, restored: endpoints(c.id) }, { causeId: root.id })]
        : [draft("conflict.resolved", { kind: c.kind as "task", id: c.id }, { conflict: null, field: "existence", value: true, ...restoration(c.id, c.kind) }, { causeId: root.id })]
    )
    return [root, ...parents, ...children]
  }

  /** Edges touching the entity or its live children (by edge id), then live subtasks, then live tasks (by id). */
  const confirmCascade = (kind: string, id: string, causeId: string): Array<EventDraft> => {
    const tasks = kind === "epic" ? (db.query("SELECT id FROM tasks WHERE epic_id = ? ORDER BY id").all(id) as Array<{ id: string }>).map((t) => t.id) : []
    const parents = kind === "task" ? [id] : tasks
    const subtasks = parents.length === 0 ? [] : (db.query(
      `SELECT id FROM subtasks WHERE task_id IN (${parents.map(() => "?").join(", ")}) ORDER BY id`
    ).all(...parents) as Array<{ id: string }>).map((s) => s.id)
    const nodes = [id, ...tasks, ...subtasks]
    const edges = db.query(
      `SELECT source_kind, source_id, target_kind, target_id FROM dependencies
       WHERE source_id IN (${nodes.map(() => "?").join(", ")}) OR target_id IN (${nodes.map(() => "?").join(", ")})`
    ).all(...nodes, ...nodes) as Array<{ source_kind: "task"; source_id: string; target_kind: "task"; target_id: string }>
    const edgeDrafts = edges
      .map((e) => ({ source: { kind: e.source_kind, id: e.source_id }, target: { kind: e.target_kind, id: e.target_id } }))
      .sort((a, b) => (edgeId(a.source, a.target) < edgeId(b.source, b.target) ? -1 : 1))
      .map((e) => draft("conflict.resolved", { kind: "dependency", id: edgeId(e.source, e.target) }, { conflict: null, field: "presence", value: false, restored: e }, { causeId }))
    const gone = (k: "task" | "subtask") => (x: string) => draft("conflict.resolved", { kind: k, id: x }, { conflict: null, field: "existence", value: false }, { causeId })
    return [...edgeDrafts, ...subtasks.map(gone("subtask")), ...tasks.map(gone("task"))]
  }

  /**
   * A restored task or subtask whose parent is gone would be an orphan, which
   * the domain forbids: its parent (and the parent's parent) come back too.
   */
  const restoreParents = (kind: string, payload: { restored?: Record<string, unknown> }, causeId: string): Array<EventDraft> => {
    const parentKind = kind === "task" ? "epic" : kind === "subtask" ? "task" : undefined
    const parentId = parentKind === undefined ? undefined : payload.restored?.[parentKind]
    if (parentKind === undefined || typeof parentId !== "string" || isLive(parentKind, parentId)) return []
    const parentState = restoration(parentId, parentKind)
    const parent = draft("conflict.resolved", { kind: parentKind as "task", id: parentId }, { conflict: null, field: "existence", value: true, ...parentState }, { causeId })
    return [parent, ...restoreParents(parentKind, parentState, causeId)]
  }

  /**
   * Settles pending conflicts of this scope with one side, as conflict.resolved
   * events on this branch (one transaction). `dryRun` computes and changes nothing.
   */
  const resolve = (selection: ResolveSelection, use: "ours" | "theirs", dryRun: boolean) =>
    Effect.flatMap(git.resolve, (context) =>
      writer.write((emit) =>
        Effect.gen(function*() {
          const matched = yield* trySqlite(() => {
            const stream = streamOf(context.stream)
            if (stream === undefined) return []
            if (!dryRun) adoptPending(db, context.worktree, stream)
            const where = [inScope("c"), "c.status = 'pending'"]
            const params: Array<string | number> = [...inScopeParams(context.worktree, stream)]
            if (selection.id !== undefined) where.push("c.id = ?"), params.push(selection.id)
            if (selection.entity !== undefined) where.push("c.entity_id = ?"), params.push(selection.entity)
            if (selection.field !== undefined) where.push("c.field = ?"), params.push(selection.field)
            return db.query(`${select} WHERE ${where.join(" AND ")} ORDER BY c.id`).all(...params) as Array<ConflictRow>
          })
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
          for (const r of matched) yield* checkEdge(r, use)
          const plans = yield* trySqlite(() => matched.map((r) => ({ r, drafts: settle(r, use) })))
          if (!dryRun) yield* emit(plans.flatMap((p) => p.drafts))
          return {
            dryRun,
            resolutions: plans.map(({ r, drafts }): Resolution => ({
              conflict: r.id,
              entity: { kind: r.entity_kind, id: r.entity_id },
              field: r.field,
              base: parse(r.base),
              ours: parse(r.ours),
              theirs: parse(r.theirs),
              use,
              value: parse(use === "ours" ? r.ours : r.theirs),
              writes: drafts.map((d) => {
                const p = d.payload as { field: string; value: unknown }
                return { op: d.op, entity: d.entityId, field: p.field, value: p.value }
              })
            }))
          }
        })
      ))

  return { list, show, resolve }
}
