import type { Database } from "bun:sqlite"
import { Effect } from "effect"
import { withTracker } from "../app/AppLayer.ts"
import { isGroveFailure } from "../errors/index.ts"
import { Git } from "../git/Git.ts"
import { defaultBranch } from "../sync/SourceBranch.ts"
import { Sync } from "../sync/Sync.ts"

/** One entry of `git worktree list --porcelain`. */
export type ListedWorktree = {
  readonly path: string
  readonly head: string | null
  /** Short branch name; null when detached. */
  readonly branch: string | null
  readonly bare: boolean
  readonly prunable: boolean
}

/** Parses `git worktree list --porcelain`: blank-line separated records of `key value` lines. */
export const parseWorktreeList = (text: string): Array<ListedWorktree> =>
  text.split("\n\n").map((block) => block.trim()).filter((b) => b !== "").map((block) => {
    const fields = new Map(block.split("\n").map((line) => {
      const space = line.indexOf(" ")
      return space === -1 ? [line, ""] as const : [line.slice(0, space), line.slice(space + 1)] as const
    }))
    const branch = fields.get("branch")
    return {
      path: fields.get("worktree") ?? "",
      head: fields.get("HEAD") ?? null,
      branch: branch === undefined ? null : branch.replace(/^refs\/heads\//, ""),
      bare: fields.has("bare"),
      prunable: fields.has("prunable")
    }
  })

export type WorktreeView = ListedWorktree & {
  readonly current: boolean
  readonly actors: ReadonlyArray<string>
  readonly claims: ReadonlyArray<{ readonly id: string; readonly title: string; readonly owner: string }>
  readonly lastActivity: string | null
  /** Commits against the default branch (git rev-list). */
  readonly commits: { readonly behind: number; readonly ahead: number } | null
  /** Events against the default branch, and this branch's pending conflicts (`grove sync status` in that worktree). */
  readonly sync: { readonly behind: number; readonly ahead: number; readonly pendingConflicts: number } | { readonly error: string }
}

/** What grove's log says about a worktree: who wrote there, what they hold, and when. */
const activity = (db: Database, path: string) => {
  const actors = (db.query("SELECT DISTINCT actor FROM transactions WHERE worktree = ? ORDER BY actor").all(path) as Array<{ actor: string }>)
    .map((r) => r.actor)
  const last = db.query("SELECT max(committed_at) AS at FROM transactions WHERE worktree = ?").get(path) as { at: number | null }
  // A claim belongs to the worktree its newest task.claimed event came from, while the task is still held.
  const claims = db.query(
    `SELECT t.id, t.title, t.owner FROM tasks t
     WHERE t.status = 'in_progress' AND t.owner IS NOT NULL
       AND (SELECT tx.worktree FROM events e JOIN transactions tx ON tx.id = e.tx_id
            WHERE e.entity_id = t.id AND e.op = 'task.claimed' ORDER BY e.seq DESC LIMIT 1) = ?
     ORDER BY t.id`
  ).all(path) as WorktreeView["claims"]
  return { actors, claims, lastActivity: last.at === null ? null : new Date(last.at).toISOString() }
}

/** Every worktree of the repository, as the Worktrees view shows it. */
export const worktrees = (db: Database, cwd: string, current: string) =>
  Effect.gen(function*() {
    const git = yield* Git
    const listed = parseWorktreeList((yield* git.run(cwd, ["worktree", "list", "--porcelain"])).stdout)
    const base = yield* defaultBranch(cwd)
    return yield* Effect.forEach(listed.filter((w) => !w.bare), (w) =>
      Effect.gen(function*() {
        const counts = w.branch === null && w.head === null
          ? null
          : yield* git.run(cwd, ["rev-list", "--left-right", "--count", `${base}...${w.head ?? w.branch}`])
        const [behind, ahead] = counts?.exitCode === 0 ? counts.stdout.trim().split(/\s+/).map(Number) : []
        const status = w.prunable
          ? { error: "the worktree's directory is missing (prunable)" }
          : yield* withTracker(w.path)(Effect.flatMap(Sync, (s) => s.status(base))).pipe(
            Effect.map((r) => ({ behind: r.behind, ahead: r.ahead, pendingConflicts: r.pendingConflicts })),
            Effect.catchAll((e) => Effect.succeed({ error: isGroveFailure(e) ? e.message : String(e) }))
          )
        return {
          ...w,
          current: w.path === current,
          ...activity(db, w.path),
          commits: behind === undefined || ahead === undefined ? null : { behind, ahead },
          sync: status
        } satisfies WorktreeView
      }))
  })
