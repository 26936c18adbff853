import { Effect } from "effect"
import { InvalidInput } from "../errors/index.ts"
import { Conflicts, type ResolveSelection, type SideChoice } from "./Conflicts.ts"

/** What `resolve` settles: one conflict by id, or with `all` every pending one matching the filters. */
export interface ResolveRequest extends ResolveSelection {
  readonly all?: boolean | undefined
}

/**
 * Settles conflicts with one side's value after checking the selection is one
 * or the other (`sync resolve`; the CLI and the MCP tool share it).
 */
export const resolveConflicts = (request: ResolveRequest, use: SideChoice, dryRun: boolean) =>
  Effect.gen(function*() {
    const all = request.all === true
    if ((request.id === undefined) === !all) {
      return yield* new InvalidInput({ message: "give a conflict id or --all (not both)", details: {} })
    }
    if (!all && (request.entity !== undefined || request.field !== undefined || request.expect !== undefined)) {
      return yield* new InvalidInput({ message: "--entity, --field and --expect go with --all", details: {} })
    }
    const { id, entity, field, expect } = request
    return yield* (yield* Conflicts).resolve({ id, entity, field, expect }, use, dryRun)
  })
