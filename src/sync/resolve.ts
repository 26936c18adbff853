import { Effect } from "effect"
import { parseInvariantId } from "../causality/InvariantStore.ts"
import { InvalidInput } from "../errors/index.ts"
import { type Conflict, Conflicts, type ResolveSelection, type SideChoice } from "./Conflicts.ts"
import { type InvariantConflict, InvariantConflicts } from "./InvariantConflicts.ts"

/*
 * Listing, showing and resolving conflicts of both kinds, field and invariant:
 * what the CLI and the MCP tools share.
 */

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
export const sideChoice = (raw: string | number) =>
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
