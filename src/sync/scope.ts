import type { Database } from "bun:sqlite"

/**
 * A conflict record's scope is (worktree, branch). A branch is checked out in
 * one worktree at a time, so when it moves (`git worktree add W3 feat` after
 * feat left W1), its pending records move with it: the worktree that now has
 * the branch sees, updates and resolves them. Settled records keep the scope
 * they were settled in.
 *
 * Write commands (pull, resolve) adopt; reads (status, list) only look, so
 * they never take the write lock.
 */
export const adoptPending = (db: Database, worktree: string, streamId: number | undefined): void => {
  if (streamId === undefined) return
  db.query("UPDATE conflicts SET worktree = ? WHERE stream_id = ? AND status = 'pending' AND worktree <> ?").run(worktree, streamId, worktree)
}

/** The SQL condition "in this scope": its own records, and the branch's pending ones it would adopt. */
export const inScope = (alias: string) =>
  `((${alias}.worktree = ? AND ${alias}.stream_id = ?) OR (${alias}.stream_id = ? AND ${alias}.status = 'pending'))`

export const inScopeParams = (worktree: string, streamId: number) => [worktree, streamId, streamId]
