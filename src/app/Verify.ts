import { Effect } from "effect"
import { CausalState } from "../causality/CausalState.ts"
import type { SyncTableCheck } from "../causality/Relearn.ts"
import { Replay, type VerifyReport } from "../projections/Replay.ts"
import { trySqlite } from "../storage/errors.ts"
import { withBulkCache } from "../storage/bulkCache.ts"
import { Sqlite } from "../storage/Sqlite.ts"

/** verify's whole report: the live tables against a replay, and the sync tables against a relearn of the log. */
export interface FullVerifyReport extends VerifyReport {
  readonly sync: ReadonlyArray<SyncTableCheck>
}

/**
 * `grove verify`: the projection against a scratch replay, then the sync state
 * (knowledge, heads, floors, conflict records) against a relearn of the log,
 * which runs in a transaction that is rolled back.
 */
export const verifyAll = Effect.gen(function*() {
  const report = yield* (yield* Replay).verify
  const causal = yield* CausalState
  const { db } = yield* Sqlite
  // The relearn rewrites the sync tables before it rolls back: a bulk pass, as in a rebuild.
  const sync = yield* trySqlite(() => withBulkCache(db, () => causal.relearn.verify()))
  return { ...report, sync, identical: report.identical && sync.every((t) => t.identical) } satisfies FullVerifyReport
})

/** `grove rebuild`: the projection and the sync state, from the log alone, in one transaction. */
export const rebuildAll = (onProgress?: (replayed: number) => void) =>
  Effect.gen(function*() {
    const causal = yield* CausalState
    // The replay checks every payload against its Schema; the relearn reads them again trusting that check.
    return yield* (yield* Replay).rebuild(onProgress, (unreadable) => causal.relearn.run(unreadable))
  })
