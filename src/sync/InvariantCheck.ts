import type { Database } from "bun:sqlite"
import { Effect } from "effect"
import { checkDraft, type Detection, isEmptyOutcome, makeInvariantStore } from "../causality/InvariantStore.ts"
import type { Touched } from "../projections/Invariants.ts"
import { trySqlite } from "../storage/errors.ts"
import type { Emit } from "../write/Writer.ts"

/**
 * One invariant check after a fetch or a pull, inside the writer transaction
 * that `emit` belongs to: finds what broke or was fixed around `touched` and,
 * when anything was, emits it as a knowledge event on the branch; the Writer
 * records it from that event, as a relearn does (docs/sync.md, Invariant
 * conflicts). Returns the record ids it created and settled.
 */
export const checkInvariants = (db: Database, emit: Emit, at: { readonly branch: string; readonly via: "pull" | "fetch"; readonly source: string }, touched: Touched) =>
  Effect.gen(function*() {
    const store = makeInvariantStore(db)
    const outcome = yield* trySqlite(() => store.find(touched))
    if (isEmptyOutcome(outcome)) return { created: [], settled: [] } satisfies Detection
    return yield* emit([checkDraft(at.branch, at.via, at.source, outcome)])
  })
