import { Context, Effect, Layer } from "effect"
import type { NodeKind, NodeRef, Status } from "../events/Event.ts"
import { trySqlite } from "../storage/errors.ts"
import { Sqlite } from "../storage/Sqlite.ts"

export type Epic = {
  readonly kind: "epic"
  readonly id: string
  readonly title: string
  readonly description: string
  readonly status: Status
  readonly version: number
  readonly createdClock: number
  readonly updatedClock: number
}
export type Task = Omit<Epic, "kind"> & { readonly kind: "task"; readonly epicId: string; readonly owner: string | null }
export type Subtask = Omit<Epic, "kind"> & { readonly kind: "subtask"; readonly taskId: string; readonly owner: string | null }
export type Entity = Epic | Task | Subtask
export type Dependency = { readonly source: NodeRef; readonly target: NodeRef; readonly createdClock: number }

const common = "id, title, description, status, version, created_clock AS createdClock, updated_clock AS updatedClock"
const selectEpic = `SELECT 'epic' AS kind, ${common} FROM epics`
const selectTask = `SELECT 'task' AS kind, ${common}, epic_id AS epicId, owner FROM tasks`
const selectSubtask = `SELECT 'subtask' AS kind, ${common}, task_id AS taskId, owner FROM subtasks`

/** SQL for "the status of the edge's target", whichever table it lives in. */
const targetStatus = `coalesce(
  (SELECT status FROM tasks WHERE d.target_kind = 'task' AND id = d.target_id),
  (SELECT status FROM subtasks WHERE d.target_kind = 'subtask' AND id = d.target_id))`

export interface TaskFilter {
  readonly epic?: string | undefined
  readonly status?: Status | undefined
  readonly owner?: string | undefined
}

const toDependency = (r: { sk: NodeKind; si: string; tk: NodeKind; ti: string; c: number }): Dependency => ({
  source: { kind: r.sk, id: r.si },
  target: { kind: r.tk, id: r.ti },
  createdClock: r.c
})
const edgeColumns = "source_kind AS sk, source_id AS si, target_kind AS tk, target_id AS ti, created_clock AS c"

const tableOf = { epic: "epics", task: "tasks", subtask: "subtasks" } as const

/** Reads of the projection tables: what queries and domain rules look at. */
export class Queries extends Context.Tag("grove/Queries")<Queries, ReturnType<typeof makeQueries>>() {
  static readonly layer = Layer.effect(Queries, Effect.map(Sqlite, ({ db }) => makeQueries(db)))
}

const makeQueries = (db: import("bun:sqlite").Database) => {
  const one = <A>(sql: string, ...params: Array<string | number>) =>
    trySqlite(() => (db.query(sql).get(...params) as A | null) ?? undefined)
  const all = <A>(sql: string, ...params: Array<string | number>) => trySqlite(() => db.query(sql).all(...params) as Array<A>)
  return {
    epic: (id: string) => one<Epic>(`${selectEpic} WHERE id = ?`, id),
    task: (id: string) => one<Task>(`${selectTask} WHERE id = ?`, id),
    subtask: (id: string) => one<Subtask>(`${selectSubtask} WHERE id = ?`, id),
    epics: () => all<Epic>(`${selectEpic} ORDER BY created_clock`),
    tasks: (filter: TaskFilter) => {
      const where: Array<string> = []
      const params: Array<string> = []
      if (filter.epic !== undefined) where.push("epic_id = ?"), params.push(filter.epic)
      if (filter.status !== undefined) where.push("status = ?"), params.push(filter.status)
      if (filter.owner !== undefined) where.push("owner = ?"), params.push(filter.owner)
      return all<Task>(`${selectTask} ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_clock`, ...params)
    },
    subtasks: (taskId: string | undefined) =>
      taskId === undefined
        ? all<Subtask>(`${selectSubtask} ORDER BY created_clock`)
        : all<Subtask>(`${selectSubtask} WHERE task_id = ? ORDER BY created_clock`, taskId),
    /** Which of these ids exist, per table: for validating bulk input with one query per kind. */
    existing: (table: "epics" | "tasks" | "subtasks", ids: ReadonlyArray<string>) =>
      trySqlite(() => {
        const found = new Set<string>()
        for (let i = 0; i < ids.length; i += 500) {
          const chunk = ids.slice(i, i + 500)
          for (const r of db.query(`SELECT id FROM ${table} WHERE id IN (${chunk.map(() => "?").join(",")})`).all(...chunk)) {
            found.add((r as { id: string }).id)
          }
        }
        return found
      }),
    /** Whether the entity is live (in its projection table). */
    isLive: (kind: "epic" | "task" | "subtask", id: string) =>
      one<{ x: number }>(`SELECT 1 AS x FROM ${tableOf[kind]} WHERE id = ?`, id).pipe(Effect.map((r) => r !== undefined)),
    /** Edges with either end among these nodes. */
    edgesTouching: (ids: ReadonlyArray<string>) =>
      all<Parameters<typeof toDependency>[0]>(
        `SELECT ${edgeColumns} FROM dependencies WHERE source_id IN (${ids.map(() => "?").join(", ")}) OR target_id IN (${ids.map(() => "?").join(", ")})`,
        ...ids,
        ...ids
      ).pipe(Effect.map((rows) => rows.map(toDependency))),
    /** Edges out of `node` (what it depends on) and into it (what depends on it). */
    dependencies: (node: NodeRef) =>
      trySqlite(() => ({
        dependsOn: (db.query(`SELECT ${edgeColumns} FROM dependencies WHERE source_kind = ? AND source_id = ? ORDER BY created_clock`)
          .all(node.kind, node.id) as Array<Parameters<typeof toDependency>[0]>).map(toDependency),
        dependedOnBy:
          (db.query(`SELECT ${edgeColumns} FROM dependencies WHERE target_kind = ? AND target_id = ? ORDER BY created_clock`)
            .all(node.kind, node.id) as Array<Parameters<typeof toDependency>[0]>).map(toDependency)
      })),
    allDependencies: () =>
      all<Parameters<typeof toDependency>[0]>(`SELECT ${edgeColumns} FROM dependencies ORDER BY created_clock`).pipe(
        Effect.map((rows) => rows.map(toDependency))
      ),
    edgeExists: (source: NodeRef, target: NodeRef) =>
      one<{ x: number }>(
        "SELECT 1 AS x FROM dependencies WHERE source_kind = ? AND source_id = ? AND target_kind = ? AND target_id = ?",
        source.kind,
        source.id,
        target.kind,
        target.id
      ).pipe(Effect.map((r) => r !== undefined)),
    /** Dependencies of `node` that are not done yet. */
    undoneDependencies: (node: NodeRef) =>
      all<{ kind: NodeKind; id: string; status: Status | null }>(
        `SELECT d.target_kind AS kind, d.target_id AS id, ${targetStatus} AS status
         FROM dependencies d WHERE d.source_kind = ? AND d.source_id = ? AND ${targetStatus} IS NOT 'done'`,
        node.kind,
        node.id
      ),
    /** True when `to` can be reached from `from` along depends-on edges. */
    reaches: (from: NodeRef, to: NodeRef) =>
      one<{ x: number }>(
        `WITH RECURSIVE reach(kind, id) AS (
           SELECT ?, ?
           UNION SELECT d.target_kind, d.target_id FROM dependencies d JOIN reach r ON d.source_kind = r.kind AND d.source_id = r.id)
         SELECT 1 AS x FROM reach WHERE kind = ? AND id = ? LIMIT 1`,
        from.kind,
        from.id,
        to.kind,
        to.id
      ).pipe(Effect.map((r) => r !== undefined)),
    /** Tasks in todo whose dependencies are all done, oldest first. */
    readyTasks: (epic: string | undefined) =>
      all<Task>(
        `${selectTask} t WHERE status = 'todo' ${epic === undefined ? "" : "AND epic_id = ?"}
         AND NOT EXISTS (SELECT 1 FROM dependencies d WHERE d.source_kind = 'task' AND d.source_id = t.id
                         AND ${targetStatus} IS NOT 'done')
         ORDER BY created_clock`,
        ...(epic === undefined ? [] : [epic])
      )
  }
}
