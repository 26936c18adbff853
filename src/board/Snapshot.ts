import type { Database } from "bun:sqlite"
import type { Status } from "../events/Event.ts"

/** A card of the Board view: a task with what its card shows about subtasks and dependencies. */
export type Card = {
  readonly id: string
  readonly epicId: string
  readonly title: string
  readonly status: Status
  readonly owner: string | null
  readonly version: number
  readonly subtasks: number
  readonly subtasksDone: number
  readonly dependencies: number
  /** Dependencies not done yet: what a blocked or waiting card is waiting on. */
  readonly waitingOn: ReadonlyArray<string>
  /** Where the task was last worked on: the worktree of its newest event, as an index into `worktrees`. */
  readonly worktree: number | null
}

export type BoardSnapshot = {
  readonly epics: ReadonlyArray<{ readonly id: string; readonly title: string; readonly status: Status; readonly version: number }>
  /** Worktree paths, each once: cards refer to them by index (a path per card would double the payload). */
  readonly worktrees: ReadonlyArray<string>
  readonly tasks: ReadonlyArray<Card>
  /** The newest event's seq: the page's position in the log (live updates continue from it). */
  readonly seq: number
}

/**
 * The whole board in a few statements on the raw handle (a first load of
 * 10,000 tasks is a hot path: Effect's per-statement cost would dominate).
 */
export const boardSnapshot = (db: Database): BoardSnapshot =>
  db.transaction(() => {
    const epics = db.query("SELECT id, title, status, version FROM epics ORDER BY created_clock").all() as BoardSnapshot["epics"]
    const tasks = db.query("SELECT id, epic_id AS epicId, title, status, owner, version FROM tasks ORDER BY created_clock").all() as Array<
      Pick<Card, "id" | "epicId" | "title" | "status" | "owner" | "version">
    >
    const subtasks = db.query("SELECT task_id AS task, count(*) AS n, sum(status = 'done') AS done FROM subtasks GROUP BY task_id").all() as Array<
      { task: string; n: number; done: number }
    >
    const edges = db.query(
      `SELECT d.source_id AS source, d.target_id AS target,
              coalesce(t.status, s.status) AS status
       FROM dependencies d
       LEFT JOIN tasks t ON d.target_kind = 'task' AND t.id = d.target_id
       LEFT JOIN subtasks s ON d.target_kind = 'subtask' AND s.id = d.target_id
       WHERE d.source_kind = 'task' ORDER BY d.created_clock`
    ).all() as Array<{ source: string; target: string; status: Status | null }>
    // The newest event of each task, with the worktree of its transaction (one pass over the entity index).
    const lastWorktree = db.query(
      `SELECT e.entity_id AS id, tx.worktree, max(e.seq) AS seq FROM events e JOIN transactions tx ON tx.id = e.tx_id
       WHERE e.entity_kind = 'task' GROUP BY e.entity_id`
    ).all() as Array<{ id: string; worktree: string }>
    const seq = (db.query("SELECT coalesce(max(seq), 0) AS seq FROM events").get() as { seq: number }).seq
    const deps = new Map<string, { total: number; waiting: Array<string> }>()
    for (const e of edges) {
      const d = deps.get(e.source) ?? { total: 0, waiting: [] }
      d.total++
      if (e.status !== "done") d.waiting.push(e.target)
      deps.set(e.source, d)
    }
    const worktrees: Array<string> = []
    const worktreeIndex = new Map<string, number>()
    const worktreeOf = new Map(lastWorktree.map((r) => {
      let i = worktreeIndex.get(r.worktree)
      if (i === undefined) worktreeIndex.set(r.worktree, i = worktrees.push(r.worktree) - 1)
      return [r.id, i]
    }))
    const subtasksOf = new Map(subtasks.map((r) => [r.task, r]))
    return {
      epics,
      worktrees,
      tasks: tasks.map((t) => ({
        ...t,
        subtasks: subtasksOf.get(t.id)?.n ?? 0,
        subtasksDone: subtasksOf.get(t.id)?.done ?? 0,
        dependencies: deps.get(t.id)?.total ?? 0,
        waitingOn: deps.get(t.id)?.waiting ?? [],
        worktree: worktreeOf.get(t.id) ?? null
      })),
      seq
    }
  })()

/** The newest event's seq. */
export const latestSeq = (db: Database) => (db.query("SELECT coalesce(max(seq), 0) AS seq FROM events").get() as { seq: number }).seq

/** Changes whenever another connection commits (any grove process, the board's own writes included). */
export const dataVersion = (db: Database) => (db.query("PRAGMA data_version").get() as { data_version: number }).data_version

/**
 * The board as JSON text, computed once per change of the database rather
 * than per page: every page that opens (or reloads after a change) between
 * two writes gets the same text. A write between reading the version and the
 * snapshot only makes the next call compute again.
 */
export const snapshotCache = (db: Database) => {
  let cached: { readonly version: number; readonly text: string } | undefined
  return () => {
    const version = dataVersion(db)
    if (cached?.version !== version) cached = { version, text: JSON.stringify(boardSnapshot(db)) }
    return cached.text
  }
}
