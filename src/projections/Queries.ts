import { Context, Effect, Layer } from "effect"
import type { NodeKind, NodeRef, Status } from "../events/Event.ts"
import { trySqlite } from "../storage/errors.ts"
import { Sqlite } from "../storage/Sqlite.ts"
import { chunked } from "../storage/batch.ts"
import { offCycles } from "./Invariants.ts"
import { tableOf } from "./tables.ts"
import { targetStatus } from "./EdgeCounts.ts"
import { countByStatus } from "./StatusCounts.ts"

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

export interface TaskFilter {
  readonly epic?: string | undefined
  readonly status?: Status | undefined
  readonly owner?: string | undefined
}

/** Where a page starts: after this row in (created_clock, id) order. */
export interface PageStart {
  readonly clock: number
  readonly id: string
}

/** A page request: at most `limit` rows (all when undefined), after `after`. */
export interface PageRequest {
  readonly limit: number | undefined
  readonly after: PageStart | undefined
}

/** One page of rows in (created_clock, id) order, how many rows match in all, and where the next page starts. */
export interface Page<A> {
  readonly rows: ReadonlyArray<A>
  readonly total: number
  readonly next: PageStart | undefined
}

export interface ListFilter {
  /** The parent: the epic of tasks, the task of subtasks (ignored for epics). */
  readonly parent?: string | undefined
  /** Any of these statuses; every status when undefined. */
  readonly statuses?: ReadonlyArray<Status> | undefined
  readonly owner?: string | undefined
}

const listSources = {
  epic: { select: selectEpic, table: "epics", parent: undefined },
  task: { select: selectTask, table: "tasks", parent: "epic_id" },
  subtask: { select: selectSubtask, table: "subtasks", parent: "task_id" }
} as const

/**
 * Tasks in todo none of whose dependencies is unfinished (the count kept by migration 10's triggers; these
 * two terms select the `tasks_ready` index), and on no recorded cycle (docs/sync.md, Invariant conflicts).
 */
export const readyCondition = (db: import("bun:sqlite").Database) => `status = 'todo' AND unfinished_deps = 0 ${offCycles(db, "t")}`

const toDependency = (r: { sk: NodeKind; si: string; tk: NodeKind; ti: string; c: number }): Dependency => ({
  source: { kind: r.sk, id: r.si },
  target: { kind: r.tk, id: r.ti },
  createdClock: r.c
})
const edgeColumns = "source_kind AS sk, source_id AS si, target_kind AS tk, target_id AS ti, created_clock AS c"

/** Reads of the projection tables: what queries and domain rules look at. */
export class Queries extends Context.Tag("grove/Queries")<Queries, ReturnType<typeof makeQueries>>() {
  static readonly layer = Layer.effect(Queries, Effect.map(Sqlite, ({ db }) => makeQueries(db)))
}

const makeQueries = (db: import("bun:sqlite").Database) => {
  const one = <A>(sql: string, ...params: Array<string | number>) =>
    trySqlite(() => (db.query(sql).get(...params) as A | null) ?? undefined)
  const all = <A>(sql: string, ...params: Array<string | number>) => trySqlite(() => db.query(sql).all(...params) as Array<A>)
  /**
   * Keyset paging in (created_clock, id) order: the page reads `limit + 1`
   * rows from the ordering index, so its cost does not grow with the offset.
   */
  const page = <A extends { readonly createdClock: number; readonly id: string }>(
    select: string,
    from: string,
    where: ReadonlyArray<string>,
    params: ReadonlyArray<string | number>,
    request: PageRequest,
    /**
     * Several statuses: read the page along the creation-order index and filter (`+status` keeps SQLite
     * from searching the status index and sorting every match); the total comes from `keptTotal` or the status index.
     */
    orderFirst = false,
    /** How many rows match in all, when something cheaper than counting them answers it. */
    keptTotal?: () => number
  ) =>
    trySqlite((): Page<A> => {
      const conditions = [...where.map((w) => (orderFirst && w.startsWith("status IN") ? `+${w}` : w)), ...(request.after ? ["(created_clock, id) > (?, ?)"] : [])]
      const clause = conditions.length ? `WHERE ${conditions.join(" AND ")}` : ""
      const after = request.after ? [request.after.clock, request.after.id] : []
      const limit = request.limit === undefined ? "" : `LIMIT ${request.limit + 1}`
      const rows = db.query(`${select} ${clause} ORDER BY created_clock, id ${limit}`).all(...params, ...after) as Array<A>
      const more = request.limit !== undefined && rows.length > request.limit
      if (more) rows.pop()
      const last = rows.at(-1)
      const total = keptTotal?.() ??
        (db.query(`SELECT count(*) AS n FROM ${from} ${where.length ? `WHERE ${where.join(" AND ")}` : ""}`).get(...params) as { n: number }).n
      return { rows, total, next: more && last ? { clock: last.createdClock, id: last.id } : undefined }
    })
  return {
    /** A page of epics, tasks or subtasks, oldest first. */
    list: (kind: Entity["kind"], filter: ListFilter, request: PageRequest) => {
      const source = listSources[kind]
      const where: Array<string> = []
      const params: Array<string> = []
      if (filter.parent !== undefined && source.parent !== undefined) where.push(`${source.parent} = ?`), params.push(filter.parent)
      if (filter.statuses !== undefined) where.push(`status IN (${filter.statuses.map(() => "?").join(", ")})`), params.push(...filter.statuses)
      if (filter.owner !== undefined && kind !== "epic") where.push("owner = ?"), params.push(filter.owner)
      // Filtered by status alone (or not at all): the kept counts answer the total (migration 12).
      const byStatusAlone = where.length === (filter.statuses === undefined ? 0 : 1)
      return page<Entity>(
        source.select,
        source.table,
        where,
        params,
        request,
        filter.statuses !== undefined && filter.statuses.length > 1,
        byStatusAlone ? () => countByStatus(db, kind, filter.statuses) : undefined
      )
    },
    /** A page of ready tasks (todo, every dependency done), oldest first. */
    ready: (epic: string | undefined, request: PageRequest) =>
      Effect.flatMap(trySqlite(() => readyCondition(db)), (ready) =>
        page<Task>(`${selectTask} t`, "tasks t", [ready, ...(epic === undefined ? [] : ["epic_id = ?"])], epic === undefined ? [] : [epic], request)),
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
    /** Which of these ids exist as entities of `kind`: for validating bulk input with one query per 500 ids. */
    existing: (kind: keyof typeof tableOf, ids: ReadonlyArray<string>) =>
      trySqlite(() =>
        new Set(chunked(ids, (chunk, ph) => db.query(`SELECT id FROM ${tableOf[kind]} WHERE id IN (${ph})`).all(...chunk) as Array<{ id: string }>).map((r) => r.id))
      ),
    /** The status of each of these ids that exists as an entity of `kind`: bulk input's checks, one query per 500 ids. */
    statuses: (kind: "task" | "subtask", ids: ReadonlyArray<string>) =>
      trySqlite(() =>
        new Map(
          chunked(ids, (chunk, ph) => db.query(`SELECT id, status FROM ${tableOf[kind]} WHERE id IN (${ph})`).all(...chunk) as Array<{ id: string; status: Status }>)
            .map((r) => [r.id, r.status])
        )
      ),
    /** Whether an entity of `kind` with this id is live. */
    isLive: (kind: keyof typeof tableOf, id: string) =>
      trySqlite(() => db.query(`SELECT 1 FROM ${tableOf[kind]} WHERE id = ?`).get(id) !== null),
    /** The subtasks of these tasks, by id. */
    subtasksOf: (taskIds: ReadonlyArray<string>) =>
      trySqlite(() =>
        chunked(taskIds, (chunk, ph) => db.query(`${selectSubtask} WHERE task_id IN (${ph}) ORDER BY id`).all(...chunk) as Array<Subtask>)
      ),
    /** Every edge with an end among these node ids. */
    edgesTouching: (ids: ReadonlyArray<string>) =>
      trySqlite(() =>
        chunked(ids, (chunk, ph) =>
          db.query(`SELECT ${edgeColumns} FROM dependencies WHERE source_id IN (${ph}) UNION SELECT ${edgeColumns} FROM dependencies WHERE target_id IN (${ph})`)
            .all(...chunk, ...chunk) as Array<Parameters<typeof toDependency>[0]>).map(toDependency)
      ),
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
      Effect.flatMap(trySqlite(() => readyCondition(db)), (ready) =>
        all<Task>(
          `${selectTask} t WHERE ${ready} ${epic === undefined ? "" : "AND epic_id = ?"} ORDER BY created_clock, id`,
          ...(epic === undefined ? [] : [epic])
        ))
  }
}
