import type { Database } from "bun:sqlite"
import { Context, Effect, Layer } from "effect"
import type { NodeKind, NodeRef, Status } from "../events/Event.ts"
import { trySqlite } from "../storage/errors.ts"
import { Sqlite } from "../storage/Sqlite.ts"
import { offCycles } from "./Invariants.ts"
import type { Task } from "./Queries.ts"

/** A claim's lease as the projection holds it. */
export type Lease = { readonly owner: string; readonly leaseMs: number; readonly expiresAt: number }

/** A note with its provenance: where, on which branch and by whom it was written. */
export type Note = {
  readonly id: string
  readonly text: string
  /** Who wrote it: the acting owner (--owner, else the actor). */
  readonly author: string
  readonly time: string
  readonly worktree: string
  readonly branch: string
  readonly actor: string
}

/** A task that may be worked on next, with how much work finishing it would let through. */
export type Candidate = Task & { readonly unblocks: number; readonly lease: Lease | null }

/** A node reached from another along dependency edges, with its distance (1 = direct). */
export type TreeNode = { readonly kind: NodeKind; readonly id: string; readonly title: string; readonly status: Status; readonly distance: number; readonly via: string }

export type SearchHit = { readonly kind: "epic" | "task" | "subtask"; readonly id: string; readonly title: string; readonly status: Status; readonly matched: ReadonlyArray<"title" | "description" | "note"> }

const taskColumns = "t.id, t.title, t.description, t.status, t.version, t.created_clock AS createdClock, t.updated_clock AS updatedClock, t.epic_id AS epicId, t.owner"

/** SQL for "the status of node (kind, id)", whichever table it lives in. */
const statusOf = (kind: string, id: string) => `coalesce(
  (SELECT status FROM tasks WHERE ${kind} = 'task' AND id = ${id}),
  (SELECT status FROM subtasks WHERE ${kind} = 'subtask' AND id = ${id}))`

const toLease = (r: { lease_owner: string | null; lease_ms: number | null; expires_at: number | null }): Lease | null =>
  r.lease_owner === null ? null : { owner: r.lease_owner, leaseMs: r.lease_ms!, expiresAt: r.expires_at! }

/**
 * The tasks `who` may start now, best first: todo (unowned or already
 * assigned to `who`) or in progress under an expired lease, with no
 * unfinished dependency. Ranked by how many nodes depend on it, transitively
 * (finishing it lets the most work through), then oldest first. Parameters:
 * epic (or null), who, now (wall ms), limit.
 *
 * Read from the counts of migration 10: the todo ones are chosen and ranked
 * from the `tasks_ready` index alone, and only the best `limit` are read
 * whole. A candidate's dependents are its `dependents` (the edges into it)
 * plus the distinct nodes two or more edges away that do not also depend on
 * it directly. Those are reached only through waypoints, nodes with
 * dependents that wait on something (every node that depends on a candidate
 * waits on it), so the walk starts from the waypoint indexes instead of
 * probing every direct dependent of every candidate.
 */
export const candidatesSql = (db: Database): string =>
  `WITH RECURSIVE cand(id, created_clock, dependents) AS MATERIALIZED (
     SELECT t.id, t.created_clock, t.dependents FROM tasks t WHERE t.status = 'todo' AND t.unfinished_deps = 0
       AND (t.owner IS NULL OR t.owner = ?2) AND (?1 IS NULL OR t.epic_id = ?1) ${offCycles(db, "t")}
     UNION ALL
     SELECT t.id, t.created_clock, t.dependents FROM tasks t JOIN leases l ON l.entity_id = t.id
     WHERE t.status = 'in_progress' AND t.unfinished_deps = 0 AND t.owner IS NOT ?2 AND l.expires_at <= ?3
       AND (?1 IS NULL OR t.epic_id = ?1) ${offCycles(db, "t")}),
   waypoints(kind, id) AS (
     SELECT 'task', id FROM tasks WHERE dependents > 0 AND unfinished_deps > 0
     UNION ALL SELECT 'subtask', id FROM subtasks WHERE dependents > 0 AND unfinished_deps > 0),
   deep(root, kind, id) AS (
     SELECT d1.target_id, d2.source_kind, d2.source_id FROM waypoints w
       CROSS JOIN dependencies d1 ON d1.source_kind = w.kind AND d1.source_id = w.id AND d1.target_kind = 'task'
       JOIN cand c ON c.id = d1.target_id
       CROSS JOIN dependencies d2 ON d2.target_kind = w.kind AND d2.target_id = w.id
     UNION SELECT deep.root, d.source_kind, d.source_id FROM deep CROSS JOIN dependencies d ON d.target_kind = deep.kind AND d.target_id = deep.id),
   further(root, n) AS (
     SELECT root, count(*) FROM deep
     WHERE NOT EXISTS (SELECT 1 FROM dependencies e WHERE e.source_kind = deep.kind AND e.source_id = deep.id AND e.target_kind = 'task' AND e.target_id = deep.root)
     GROUP BY root),
   ranked(id, unblocks) AS (
     SELECT c.id, c.dependents + coalesce(f.n, 0) AS unblocks FROM cand c LEFT JOIN further f ON f.root = c.id
     ORDER BY unblocks DESC, c.created_clock, c.id LIMIT ?4)
   SELECT ${taskColumns}, r.unblocks, l.owner AS lease_owner, l.lease_ms, l.expires_at
   FROM ranked r JOIN tasks t ON t.id = r.id LEFT JOIN leases l ON l.entity_id = t.id
   ORDER BY r.unblocks DESC, t.created_clock, t.id`

/**
 * Reads of the agent's loop (leases, notes, ranking, progress, trees,
 * search) over the projection tables of migration 4 and the core ones.
 */
export class Work extends Context.Tag("grove/Work")<Work, ReturnType<typeof makeWork>>() {
  static readonly layer = Layer.effect(Work, Effect.map(Sqlite, ({ db }) => makeWork(db)))
}

const makeWork = (db: Database) => {
  const lease = (id: string) =>
    trySqlite(() => {
      const r = db.query("SELECT owner, lease_ms, expires_at FROM leases WHERE entity_id = ?").get(id) as
        | { owner: string; lease_ms: number; expires_at: number }
        | null
      return r === null ? null : { owner: r.owner, leaseMs: r.lease_ms, expiresAt: r.expires_at } satisfies Lease
    })

  const notes = (id: string) =>
    trySqlite(() =>
      (db.query(
        `SELECT n.id, n.text, n.author, n.clock, t.worktree, s.branch, s.name AS stream, t.actor
         FROM notes n JOIN events e ON e.id = n.id JOIN transactions t ON t.id = e.tx_id JOIN streams s ON s.id = e.stream_id
         WHERE n.entity_id = ? ORDER BY n.clock, n.id`
      ).all(id) as Array<{ id: string; text: string; author: string; clock: number; worktree: string; branch: string | null; stream: string; actor: string }>)
        .map((r): Note => ({
          id: r.id,
          text: r.text,
          author: r.author,
          time: new Date(Math.floor(r.clock / 1024)).toISOString(),
          worktree: r.worktree,
          branch: r.branch ?? r.stream,
          actor: r.actor
        }))
    )

  /** The tasks `who` may start now, best first (`candidatesSql`). */
  const candidates = (options: { readonly epic?: string | undefined; readonly who: string; readonly now: number; readonly limit: number }) =>
    trySqlite(() =>
      (db.query(candidatesSql(db)).all(options.epic ?? null, options.who, options.now, options.limit) as Array<
        Omit<Task, "kind"> & { unblocks: number; lease_owner: string | null; lease_ms: number | null; expires_at: number | null }
      >).map(({ lease_owner, lease_ms, expires_at, ...t }): Candidate => ({
        ...t,
        kind: "task",
        lease: toLease({ lease_owner, lease_ms, expires_at })
      }))
    )

  /** `who`'s tasks in progress, oldest first: an agent resumes these before starting anything new. */
  const inProgressOf = (who: string, epic: string | undefined) =>
    trySqlite(() =>
      (db.query(
        `SELECT ${taskColumns} FROM tasks t WHERE t.owner = ? AND t.status = 'in_progress' AND (? IS NULL OR t.epic_id = ?)
         ORDER BY t.created_clock, t.id`
      ).all(who, epic ?? null, epic ?? null) as Array<Omit<Task, "kind">>).map((t): Task => ({ ...t, kind: "task" }))
    )

  /** Nodes that depend on `node` directly and can start now that it is done (todo, every dependency done). */
  const unblockedBy = (node: NodeRef) =>
    trySqlite(() =>
      db.query(
        `SELECT d.source_kind AS kind, d.source_id AS id FROM dependencies d
         WHERE d.target_kind = ? AND d.target_id = ? AND coalesce(
           (SELECT status = 'todo' AND unfinished_deps = 0 FROM tasks WHERE d.source_kind = 'task' AND id = d.source_id),
           (SELECT status = 'todo' AND unfinished_deps = 0 FROM subtasks WHERE d.source_kind = 'subtask' AND id = d.source_id))
         ORDER BY d.created_clock`
      ).all(node.kind, node.id) as Array<NodeRef>
    )

  /** Counts per status, ready and blocked-by-dependencies of one epic's tasks. */
  const progress = (epic: string) =>
    trySqlite(() => {
      const byStatus = Object.fromEntries(
        (db.query("SELECT status, count(*) AS n FROM tasks WHERE epic_id = ? GROUP BY status").all(epic) as Array<{ status: Status; n: number }>)
          .map((r) => [r.status, r.n])
      ) as Partial<Record<Status, number>>
      const gated = db.query(
        `SELECT sum(t.unfinished_deps = 0) AS ready, sum(t.unfinished_deps > 0) AS waiting
         FROM tasks t WHERE t.epic_id = ? AND t.status = 'todo'`
      ).get(epic) as { ready: number | null; waiting: number | null }
      const total = Object.values(byStatus).reduce((n, x) => n + (x ?? 0), 0)
      return {
        total,
        todo: byStatus.todo ?? 0,
        inProgress: byStatus.in_progress ?? 0,
        blocked: byStatus.blocked ?? 0,
        done: byStatus.done ?? 0,
        /** todo with every dependency done */
        ready: gated.ready ?? 0,
        /** todo with a dependency not done yet */
        waiting: gated.waiting ?? 0
      }
    })

  /**
   * Every node `root` depends on (or, reversed, that depends on it), each at
   * its shortest distance, up to `depth` edges away.
   */
  const tree = (root: NodeRef, options: { readonly reverse: boolean; readonly depth: number }) =>
    trySqlite(() => {
      const [from, to] = options.reverse ? ["target", "source"] : ["source", "target"]
      return (db.query(
        `WITH RECURSIVE walk(kind, id, distance, via) AS (
           SELECT ?, ?, 0, NULL
           UNION SELECT d.${to}_kind, d.${to}_id, w.distance + 1, w.id FROM walk w
             JOIN dependencies d ON d.${from}_kind = w.kind AND d.${from}_id = w.id WHERE w.distance < ?)
         SELECT w.kind, w.id, min(w.distance) AS distance, w.via,
                coalesce((SELECT title FROM tasks WHERE w.kind = 'task' AND id = w.id), (SELECT title FROM subtasks WHERE w.kind = 'subtask' AND id = w.id)) AS title,
                ${statusOf("w.kind", "w.id")} AS status
         FROM walk w WHERE w.distance > 0 GROUP BY w.kind, w.id ORDER BY distance, w.id`
      ).all(root.kind, root.id, options.depth) as Array<TreeNode>)
    })

  /**
   * Epics, tasks and subtasks whose title, description or notes contain every
   * word of `text` (as a word prefix, case and accents ignored), best match first.
   * Only letters and digits make words, so FTS5 operators in the text are never obeyed.
   */
  const search = (text: string, kinds: ReadonlyArray<"epic" | "task" | "subtask">) =>
    trySqlite(() => {
      // Split as the unicode61 tokenizer does, so every term is one token (the index keeps no positions).
      const query = text.split(/[^\p{L}\p{N}]+/u).filter((w) => w !== "").map((w) => `"${w}"*`).join(" ")
      if (query === "") return []
      const rows = db.query(
        `SELECT r.entity_kind AS kind, r.entity_id AS id, r.source,
                highlight(search, 0, '[', ']') <> r.title AS inTitle, highlight(search, 1, '[', ']') <> r.body AS inBody
         FROM search JOIN search_rows r ON r.rowid = search.rowid
         WHERE search MATCH ? ORDER BY rank`
      ).all(query) as Array<{ kind: "epic" | "task" | "subtask"; id: string; source: string; inTitle: number; inBody: number }>
      const hits = new Map<string, { kind: "epic" | "task" | "subtask"; id: string; matched: Set<"title" | "description" | "note"> }>()
      for (const r of rows) {
        if (!kinds.includes(r.kind)) continue
        const hit = hits.get(r.id) ?? { kind: r.kind, id: r.id, matched: new Set() }
        if (r.source !== "") hit.matched.add("note")
        else {
          if (r.inTitle) hit.matched.add("title")
          if (r.inBody) hit.matched.add("description")
        }
        hits.set(r.id, hit)
      }
      const table = { epic: "epics", task: "tasks", subtask: "subtasks" } as const
      return [...hits.values()].flatMap((h): Array<SearchHit> => {
        // Notes outlive a deleted task in the index; only live entities are hits.
        const live = db.query(`SELECT title, status FROM ${table[h.kind]} WHERE id = ?`).get(h.id) as { title: string; status: Status } | null
        return live === null ? [] : [{ kind: h.kind, id: h.id, title: live.title, status: live.status, matched: [...h.matched].sort() }]
      })
    })

  /** `list` narrowed to the search hits for `text`, best match first, each with what matched. */
  const narrow = <A extends { readonly id: string }>(list: ReadonlyArray<A>, text: string, kind: "epic" | "task" | "subtask") =>
    Effect.map(search(text, [kind]), (hits) => {
      const byId = new Map(list.map((x) => [x.id, x]))
      return hits.flatMap((h) => {
        const x = byId.get(h.id)
        return x === undefined ? [] : [{ ...x, matched: h.matched }]
      })
    })

  return { lease, notes, candidates, inProgressOf, unblockedBy, progress, tree, search, narrow }
}
