import type { Database } from "bun:sqlite"

/**
 * A conflict record's scope is (worktree, branch). A branch is checked out in
 * one worktree at a time, so when it moves (`git worktree add W3 feat` after
 * feat left W1), its pending records move with it: the worktree that now has
 * the branch sees, updates and resolves them. Settled records keep the scope
 * they were settled in.
 */
export const adoptPending = (db: Database, worktree: string, streamId: number | undefined): void => {
  if (streamId === undefined) return
  db.query("UPDATE conflicts SET worktree = ? WHERE stream_id = ? AND status = 'pending' AND worktree <> ?").run(worktree, streamId, worktree)
}
