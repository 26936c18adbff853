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
  /** The worktree of the newest event on the task: where it was last worked on. */
  readonly worktree: string | null
}

export type BoardSnapshot = {
  readonly epics: ReadonlyArray<{ readonly id: string; readonly title: string; readonly status: Status; readonly version: number }>
  readonly tasks: ReadonlyArray<Card>
  /** The newest event's seq: the page's position in the log (live updates continue from it). */
  readonly seq: number
}

/**
 * The whole board in four statements on the raw handle (a first load of
 * 10,000 tasks is a hot path: Effect's per-statement cost would dominate).
 */
export const boardSnapshot = (db: Database): BoardSnapshot =>
  db.transaction(() => {
    const epics = db.query("SELECT id, title, status, version FROM epics ORDER BY created_clock").all() as BoardSnapshot["epics"]
    const tasks = db.query(
      `SELECT t.id, t.epic_id AS epicId, t.title, t.status, t.owner, t.version,
              count(s.id) AS subtasks, coalesce(sum(s.status = 'done'), 0) AS subtasksDone
       FROM tasks t LEFT JOIN subtasks s ON s.task_id = t.id GROUP BY t.id ORDER BY t.created_clock`
    ).all() as Array<Omit<Card, "dependencies" | "waitingOn" | "worktree">>
    const edges = db.query(
      `SELECT d.source_id AS source, d.target_id AS target,
              coalesce(t.status, s.status) AS status
       FROM dependencies d
       LEFT JOIN tasks t ON d.target_kind = 'task' AND t.id = d.target_id
       LEFT JOIN subtasks s ON d.target_kind = 'subtask' AND s.id = d.target_id
       WHERE d.source_kind = 'task'`
    ).all() as Array<{ source: string; target: string; status: Status | null }>
    const lastWorktree = db.query(
      `SELECT e.entity_id AS id, tx.worktree FROM events e JOIN transactions tx ON tx.id = e.tx_id
       WHERE e.seq IN (SELECT max(seq) FROM events WHERE entity_kind = 'task' GROUP BY entity_id)`
    ).all() as Array<{ id: string; worktree: string }>
    const seq = (db.query("SELECT coalesce(max(seq), 0) AS seq FROM events").get() as { seq: number }).seq
    const deps = new Map<string, { total: number; waiting: Array<string> }>()
    for (const e of edges) {
      const d = deps.get(e.source) ?? { total: 0, waiting: [] }
      d.total++
      if (e.status !== "done") d.waiting.push(e.target)
      deps.set(e.source, d)
    }
    const worktrees = new Map(lastWorktree.map((r) => [r.id, r.worktree]))
    return {
      epics,
      tasks: tasks.map((t) => ({
        ...t,
        dependencies: deps.get(t.id)?.total ?? 0,
        waitingOn: deps.get(t.id)?.waiting ?? [],
        worktree: worktrees.get(t.id) ?? null
      })),
      seq
    }
  })()

/** The newest event's seq. */
export const latestSeq = (db: Database) => (db.query("SELECT coalesce(max(seq), 0) AS seq FROM events").get() as { seq: number }).seq
