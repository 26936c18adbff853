import { Effect } from "effect"
import { GitContext } from "../events/GitContext.ts"
import { Git } from "../git/Git.ts"
import { trySqlite } from "../storage/errors.ts"
import { Sqlite } from "../storage/Sqlite.ts"
import { Sync } from "../sync/Sync.ts"
import type { Acting } from "../tracker/Acting.ts"
import { Claims } from "../tracker/Claims.ts"

/** A worktree as `git worktree list --porcelain` lists it. */
type Listed = { readonly path: string; readonly branch: string | null; readonly head: string | null }

export const parseWorktrees = (porcelain: string): Array<Listed> =>
  porcelain.split("\n\n").filter((b) => b.trim() !== "").map((block) => {
    const field = (name: string) => block.split("\n").find((l) => l.startsWith(`${name} `))?.slice(name.length + 1) ?? null
    const branch = field("branch")
    return { path: field("worktree")!, branch: branch?.replace(/^refs\/heads\//, "") ?? null, head: field("HEAD") }
  })

/** An item in progress and the worktree its claim was written from. */
type ClaimRow = { kind: "task" | "subtask"; id: string; title: string; owner: string; worktree: string; expires_at: number | null }

/**
 * `grove session`: one read that orients an agent. Who and where it is, its
 * claims, the work counts, its pending conflicts and what it is behind on,
 * and per other worktree of the repository: branch, actors, claims and last
 * activity (from `git worktree list` and the transactions table).
 */
export const session = (acting: Acting) =>
  Effect.gen(function*() {
    const context = yield* (yield* GitContext).resolve
    const who = yield* (yield* Claims).whoActs(acting)
    const { db } = yield* Sqlite
    const listed = parseWorktrees((yield* (yield* Git).run(context.worktree, ["worktree", "list", "--porcelain"])).stdout)
    // Sync status against the default source; a repository whose default branch grove cannot name has none.
    const sync = yield* Effect.either((yield* Sync).status(undefined))
    const data = yield* trySqlite(() => {
      const claims = db.query(
        `SELECT kind, id, title, owner, worktree, expires_at FROM (
           SELECT 'task' AS kind, t.id, t.title, t.owner, (SELECT tx.worktree FROM events e JOIN transactions tx ON tx.id = e.tx_id
             WHERE e.entity_id = t.id AND e.op = 'task.claimed' ORDER BY e.seq DESC LIMIT 1) AS worktree, l.expires_at
           FROM tasks t LEFT JOIN leases l ON l.entity_id = t.id WHERE t.status = 'in_progress' AND t.owner IS NOT NULL
           UNION ALL
           SELECT 'subtask', s.id, s.title, s.owner, (SELECT tx.worktree FROM events e JOIN transactions tx ON tx.id = e.tx_id
             WHERE e.entity_id = s.id AND e.op = 'subtask.claimed' ORDER BY e.seq DESC LIMIT 1), l.expires_at
           FROM subtasks s LEFT JOIN leases l ON l.entity_id = s.id WHERE s.status = 'in_progress' AND s.owner IS NOT NULL)
         ORDER BY id`
      ).all() as Array<ClaimRow>
      const activity = new Map(
        (db.query(
          `SELECT worktree, group_concat(DISTINCT actor) AS actors, max(committed_at) AS last FROM transactions GROUP BY worktree`
        ).all() as Array<{ worktree: string; actors: string; last: number }>).map((r) => [r.worktree, r])
      )
      const counts = db.query(
        `SELECT sum(status = 'todo' AND NOT EXISTS (SELECT 1 FROM dependencies d WHERE d.source_kind = 'task' AND d.source_id = t.id
                  AND coalesce((SELECT status FROM tasks WHERE d.target_kind = 'task' AND id = d.target_id),
                               (SELECT status FROM subtasks WHERE d.target_kind = 'subtask' AND id = d.target_id)) IS NOT 'done')) AS ready,
                sum(status = 'todo') AS todo, sum(status = 'in_progress') AS inProgress, sum(status = 'blocked') AS blocked, sum(status = 'done') AS done
         FROM tasks t`
      ).get() as Record<string, number | null>
      const view = (c: ClaimRow) => ({
        kind: c.kind,
        id: c.id,
        title: c.title,
        owner: c.owner,
        leaseExpiresAt: c.expires_at === null ? null : new Date(c.expires_at).toISOString()
      })
      const ready = counts["ready"] ?? 0
      return {
        worktree: context.worktree,
        branch: context.stream,
        actor: context.actor,
        owner: who,
        myClaims: claims.filter((c) => c.owner === who).map(view),
        tasks: {
          ready,
          inProgress: counts["inProgress"] ?? 0,
          blocked: counts["blocked"] ?? 0,
          waiting: (counts["todo"] ?? 0) - ready,
          done: counts["done"] ?? 0
        },
        others: listed.filter((w) => w.path !== context.worktree).map((w) => {
          const a = activity.get(w.path)
          return {
            worktree: w.path,
            branch: w.branch ?? `detached@${w.head}`,
            actors: a === undefined ? [] : a.actors.split(",").sort(),
            claims: claims.filter((c) => c.worktree === w.path).map(view),
            lastActivity: a === undefined ? null : new Date(a.last).toISOString()
          }
        })
      }
    })
    return {
      ...data,
      sync: sync._tag === "Right"
        ? { source: sync.right.sourceBranch, behind: sync.right.behind, ahead: sync.right.ahead, pendingConflicts: sync.right.pendingConflicts }
        : { source: null, behind: null, ahead: null, pendingConflicts: null, error: sync.left.message }
    }
  })
