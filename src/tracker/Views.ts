import { Effect } from "effect"
import { InvalidInput, NotFound } from "../errors/index.ts"
import { Queries } from "../projections/Queries.ts"
import { Work } from "../projections/Work.ts"
import { type Conflict, Conflicts, type ResolveSelection, type SideChoice } from "../sync/Conflicts.ts"
import { type InvariantConflict, InvariantConflicts } from "../sync/InvariantConflicts.ts"
import { parseInvariantId } from "../causality/InvariantStore.ts"
import { type Acting, Claims, type WorkKind } from "./Claims.ts"
import { Next } from "./Next.ts"
import type { EntityKindName } from "./Tracker.ts"

/**
 * The answers that combine several services, shared by the CLI's `--json`
 * data and the MCP tools (src/mcp), so both front ends return one shape.
 */

/** An entity with its children, dependency edges, lease and notes (`show`): projection reads only. */
export const showEntity = (kind: EntityKindName, id: string) =>
  Effect.gen(function*() {
    const queries = yield* Queries
    const entity = yield* (kind === "epic" ? queries.epic(id) : kind === "task" ? queries.task(id) : queries.subtask(id))
    if (entity === undefined) return yield* new NotFound({ message: `no ${kind} with id ${id}`, details: { kind, id } })
    const children = kind === "epic" ? yield* queries.tasks({ epic: id }) : kind === "task" ? yield* queries.subtasks(id) : []
    const edges = kind === "epic" ? { dependsOn: [], dependedOnBy: [] } : yield* queries.dependencies({ kind, id })
    const work = yield* Work
    const notes = kind === "epic" ? [] : yield* work.notes(id)
    const lease = kind === "epic" ? null : yield* work.lease(id)
    return { ...entity, children, dependsOn: edges.dependsOn, dependedOnBy: edges.dependedOnBy, lease, notes }
  })

/** Finishes a task or subtask as its owner, with what that unblocked and the next candidate in the same epic (`done`). */
export const finishWork = (kind: WorkKind, id: string, acting: Acting & { readonly ifVersion?: number | undefined }) =>
  Effect.gen(function*() {
    const r = yield* (yield* Claims).finish(kind, id, acting)
    const epic = r.entity.kind === "task"
      ? r.entity.epicId
      : r.entity.kind === "subtask"
      ? (yield* (yield* Queries).task(r.entity.taskId))?.epicId
      : undefined
    const next = yield* (yield* Next).peek(r.who, epic)
    return { entity: r.entity, changed: r.changed, unblocked: r.unblocked, next }
  })

/** Counts per status, ready and waiting tasks, and the next candidate for anyone (`epic progress`). */
export const epicProgress = (id: string) =>
  Effect.gen(function*() {
    if ((yield* (yield* Queries).epic(id)) === undefined) {
      return yield* new NotFound({ message: `no epic with id ${id}`, details: { kind: "epic", id } })
    }
    const work = yield* Work
    const counts = yield* work.progress(id)
    // The next candidate for anyone: ready and unowned (an empty owner matches no task's owner).
    const next = (yield* work.candidates({ epic: id, who: "", now: Date.now(), limit: 1 }))[0] ?? null
    return { epic: id, ...counts, next }
  })

/** A conflict id as given: a number names a field conflict, `i<N>` an invariant one (a cycle, an orphan). */
export const parseConflictId = (raw: number | string) =>
  Effect.suspend((): Effect.Effect<{ readonly kind: "field" | "invariant"; readonly id: number }, InvalidInput> => {
    const text = String(raw).trim()
    if (/^[1-9]\d*$/.test(text)) return Effect.succeed({ kind: "field" as const, id: Number(text) })
    const invariant = parseInvariantId(text)
    if (invariant !== undefined) return Effect.succeed({ kind: "invariant" as const, id: invariant })
    return Effect.fail(new InvalidInput({ message: `a conflict id is a number (a field conflict) or i<N> (an invariant conflict), not ${text}`, details: { id: raw } }))
  })

/** This scope's conflicts: field conflicts, then invariant ones (`sync conflicts list`). */
export const listConflicts = (options: { readonly all?: boolean | undefined }) =>
  Effect.gen(function*() {
    const fields: ReadonlyArray<Conflict | InvariantConflict> = yield* (yield* Conflicts).list({ all: options.all === true })
    return [...fields, ...(yield* (yield* InvariantConflicts).list({ all: options.all === true }))]
  })

/** One conflict of either kind (`sync conflicts show`). */
export const showConflict = (raw: number | string) =>
  Effect.gen(function*() {
    const id = yield* parseConflictId(raw)
    return id.kind === "field"
      ? yield* Effect.map((yield* Conflicts).show(id.id), (c): Conflict | InvariantConflict => c)
      : yield* (yield* InvariantConflicts).show(id.id)
  })

/** What `resolve` settles: one conflict by id, or with `all` every pending field conflict matching the filters. */
export interface ResolveRequest extends Omit<ResolveSelection, "id"> {
  readonly id?: number | string | undefined
  readonly all?: boolean | undefined
}

/** A field conflict's `--use`: ours, theirs, or a side's number (`conflicts show` lists every side). */
const sideChoice = (raw: string | number) =>
  raw === "ours" || raw === "theirs"
    ? Effect.succeed<SideChoice>(raw)
    : /^[1-9][0-9]*$/.test(String(raw))
    ? Effect.succeed<SideChoice>(Number(raw))
    : Effect.fail(new InvalidInput({ message: `--use takes ours, theirs or a side's number, got '${raw}'`, details: { use: raw } }))

/**
 * Settles conflicts after checking the selection is one or the other (`sync
 * resolve`): field conflicts with a side (ours, theirs, a side's number), an
 * invariant conflict with one of the choices `show` lists.
 */
export const resolveConflicts = (request: ResolveRequest, use: string | number, dryRun: boolean) =>
  Effect.gen(function*() {
    const all = request.all === true
    if ((request.id === undefined) === !all) {
      return yield* new InvalidInput({ message: "give a conflict id or --all (not both)", details: {} })
    }
    if (!all && (request.entity !== undefined || request.field !== undefined || request.expect !== undefined)) {
      return yield* new InvalidInput({ message: "--entity, --field and --expect go with --all", details: {} })
    }
    const id = request.id === undefined ? undefined : yield* parseConflictId(request.id)
    if (id?.kind === "invariant") return yield* (yield* InvariantConflicts).resolve(id.id, String(use), dryRun)
    const side = yield* sideChoice(use)
    const { entity, field, expect } = request
    return yield* (yield* Conflicts).resolve({ id: id?.id, entity, field, expect }, side, dryRun)
  })
