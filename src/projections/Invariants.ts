import type { Database } from "bun:sqlite"
import { Schema } from "effect"
import { edgeId, NodeRef } from "../events/Event.ts"
import { chunked } from "../events/log.ts"

/**
 * The graph's invariants over the live state: dependency edges form no cycle,
 * a task's epic is live, a subtask's task is live, both ends of an edge are
 * live. Writes in one database are checked against the live state and cannot
 * break them; events imported from another clone (and restores) can.
 * Reads of the projection tables and the log only: src/causality/InvariantStore.ts
 * records what they find.
 */

export const EntityRef = Schema.Struct({ kind: Schema.String, id: Schema.String })
export type EntityRef = typeof EntityRef.Type
export const Edge = Schema.Struct({ source: NodeRef, target: NodeRef })
export type Edge = typeof Edge.Type

/** What is wrong: a cycle of edges (in path order), or a child (task, subtask or edge) whose parent is not live. */
export const Violation = Schema.Union(
  Schema.Struct({ invariant: Schema.Literal("cycle"), edges: Schema.Array(Edge) }),
  Schema.Struct({ invariant: Schema.Literal("orphan"), child: EntityRef, parent: EntityRef })
)
export type Violation = typeof Violation.Type

/** The events behind a violation: each cycle edge's latest write; the orphan's latest write and its parent's (its delete). */
export const Behind = Schema.Array(Schema.Struct({ role: Schema.Literal("edge", "child", "parent"), entity: Schema.String, seq: Schema.NullOr(Schema.Number) }))
export type Behind = typeof Behind.Type

/**
 * What one invariant check found, as its knowledge event carries it: the
 * violations it recorded (in id order) with the events behind them, and the
 * pending records it settled, by key, with the event that fixed each.
 */
export const InvariantOutcome = Schema.Struct({
  recorded: Schema.Array(Schema.Struct({ violation: Violation, behind: Behind })),
  settled: Schema.Array(Schema.Struct({ key: Schema.String, seq: Schema.Number }))
})
export type InvariantOutcome = typeof InvariantOutcome.Type

/** One violation's identity, so that it is recorded once: a cycle's edge ids sorted, an orphan's child and parent. */
export const violationKey = (v: Violation): string =>
  v.invariant === "cycle" ? `cycle:${v.edges.map((e) => edgeId(e.source, e.target)).sort().join(",")}` : `orphan:${v.child.id}<${v.parent.id}`

/** The tasks on a cycle: `task ready` and `next` never offer them. */
export const cycleTasks = (v: Violation): Array<string> =>
  v.invariant === "cycle" ? [...new Set(v.edges.flatMap((e) => [e.source, e.target]).filter((n) => n.kind === "task").map((n) => n.id))] : []

/**
 * An SQL condition (`AND ...`) on tasks aliased `alias`: not on a cycle that a
 * pending invariant conflict names. Empty when no record names a cycle (the
 * usual case): even over an empty table the condition costs a probe per task,
 * about 15% of `task ready` at 60,000 tasks.
 */
export const offCycles = (db: Database, alias: string): string =>
  db.query("SELECT 1 FROM invariant_cycle_tasks LIMIT 1").get() === null ? "" : `AND ${alias}.id NOT IN (SELECT task_id FROM invariant_cycle_tasks)`

/**
 * What a command's events touched, by the way each can break an invariant:
 * a created task or subtask may have no live parent, a deleted entity may
 * leave children behind, an added edge may close a cycle or have an end that
 * is not live. A resolution may do any of these. No update moves a child.
 */
export class Touched {
  readonly children = new Set<string>()
  readonly parents = new Set<string>()
  readonly edges = new Set<string>()

  add(op: string, entityId: string): void {
    const resolved = op === "conflict.resolved"
    if (entityId.includes(">")) {
      if (op === "dependency.added" || resolved) this.edges.add(entityId)
      return
    }
    if (op.endsWith(".created") || resolved) this.children.add(entityId)
    if (op.endsWith(".deleted") || resolved) this.parents.add(entityId)
  }

  get size(): number {
    return this.children.size + this.parents.size + this.edges.size
  }
}

const liveNode = (kind: string, id: string) =>
  `coalesce((SELECT 1 FROM tasks WHERE ${kind} = 'task' AND id = ${id}), (SELECT 1 FROM subtasks WHERE ${kind} = 'subtask' AND id = ${id})) IS NOT NULL`

type OrphanRow = { ck: string; ci: string; pk: string; pi: string }

/**
 * Orphans, one query per (child, parent) pair of tables. Narrowed, a query
 * looks at rows whose child is touched (`child`) or whose parent is
 * (`parent`); an edge is a child of both of its ends.
 */
const orphanQueries: ReadonlyArray<{ readonly sql: string; readonly child?: string; readonly parent: string }> = [
  {
    sql: `SELECT 'task' AS ck, t.id AS ci, 'epic' AS pk, t.epic_id AS pi FROM tasks t WHERE NOT EXISTS (SELECT 1 FROM epics e WHERE e.id = t.epic_id)`,
    child: "t.id",
    parent: "t.epic_id"
  },
  {
    sql: `SELECT 'subtask' AS ck, s.id AS ci, 'task' AS pk, s.task_id AS pi FROM subtasks s WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = s.task_id)`,
    child: "s.id",
    parent: "s.task_id"
  },
  {
    sql: `SELECT 'dependency' AS ck, d.source_id || '>' || d.target_id AS ci, d.source_kind AS pk, d.source_id AS pi FROM dependencies d
          WHERE NOT ${liveNode("d.source_kind", "d.source_id")}`,
    parent: "d.source_kind IN ('task', 'subtask') AND d.source_id"
  },
  {
    sql: `SELECT 'dependency' AS ck, d.source_id || '>' || d.target_id AS ci, d.target_kind AS pk, d.target_id AS pi FROM dependencies d
          WHERE NOT ${liveNode("d.target_kind", "d.target_id")}`,
    parent: "d.target_kind IN ('task', 'subtask') AND d.target_id"
  }
]

const orphans = (db: Database, touched: { readonly children: ReadonlyArray<string>; readonly parents: ReadonlyArray<string> } | undefined): Array<Violation> => {
  const narrowed = (sql: string, column: string | undefined, ids: ReadonlyArray<string>) =>
    column === undefined ? [] : chunked(ids, (chunk, ph) => db.query(`${sql} AND ${column} IN (${ph})`).all(...chunk) as Array<OrphanRow>)
  const rows = orphanQueries.flatMap(({ sql, child, parent }) =>
    touched === undefined
      ? db.query(sql).all() as Array<OrphanRow>
      : [...narrowed(sql, child, touched.children), ...narrowed(sql, parent, touched.parents)]
  )
  const found = new Map<string, Violation>()
  for (const r of rows) {
    const v: Violation = { invariant: "orphan", child: { kind: r.ck, id: r.ci }, parent: { kind: r.pk, id: r.pi } }
    found.set(violationKey(v), v)
  }
  return [...found.values()]
}

type EdgeRow = { sk: NodeRef["kind"]; si: string; tk: NodeRef["kind"]; ti: string }
const edgeColumns = "source_kind AS sk, source_id AS si, target_kind AS tk, target_id AS ti"
/** One live edge by its two ids (the kinds are in the primary key: IN lets SQLite use it). */
const liveEdge = `SELECT ${edgeColumns} FROM dependencies
  WHERE source_kind IN ('task', 'subtask') AND source_id = ? AND target_kind IN ('task', 'subtask') AND target_id = ?`

/**
 * Cycles through the edges named (every edge when undefined): an edge s>t is
 * on a cycle when s is reachable from t, that is when both are in one
 * strongly connected component. Tarjan's algorithm (iterative) over the part
 * of the graph reachable from the edges' targets, loading each node's
 * out-edges once; one cycle is reported per such edge (a shortest path back).
 */
const cycles = (db: Database, edgeIds: ReadonlyArray<string> | undefined): Array<Violation> => {
  const byIds = db.query(liveEdge)
  const edgeRows = edgeIds === undefined
    ? db.query(`SELECT ${edgeColumns} FROM dependencies`).all() as Array<EdgeRow>
    : edgeIds.flatMap((id) => {
      const row = byIds.get(...(id.split(">") as [string, string])) as EdgeRow | null
      return row === null ? [] : [row]
    })
  if (edgeRows.length === 0) return []
  const kinds = new Map<string, NodeRef["kind"]>()
  const adjacency = new Map<string, Array<string>>()
  for (const e of edgeRows) kinds.set(e.si, e.sk), kinds.set(e.ti, e.tk)
  if (edgeIds === undefined) {
    for (const id of kinds.keys()) adjacency.set(id, [])
    for (const e of edgeRows) adjacency.get(e.si)!.push(e.ti)
  }
  const out = db.query("SELECT target_kind AS kind, target_id AS id FROM dependencies WHERE source_kind = ? AND source_id = ?")
  const successors = (id: string): Array<string> => {
    let next = adjacency.get(id)
    if (next === undefined) {
      const rows = out.all(kinds.get(id)!, id) as Array<NodeRef>
      for (const r of rows) kinds.set(r.id, r.kind)
      next = rows.map((r) => r.id)
      adjacency.set(id, next)
    }
    return next
  }

  // Tarjan's strongly connected components, iteratively (a long chain would overflow the stack).
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const component = new Map<string, number>()
  const stack: Array<string> = []
  const onStack = new Set<string>()
  let counter = 0
  let components = 0
  const enter = (node: string) => {
    index.set(node, counter), low.set(node, counter++), stack.push(node), onStack.add(node)
  }
  const visit = (root: string) => {
    if (index.has(root)) return
    const frames: Array<{ node: string; next: number }> = [{ node: root, next: 0 }]
    enter(root)
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!
      const succ = successors(frame.node)
      if (frame.next < succ.length) {
        const w = succ[frame.next++]!
        if (!index.has(w)) enter(w), frames.push({ node: w, next: 0 })
        else if (onStack.has(w)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(w)!))
        continue
      }
      frames.pop()
      const parent = frames[frames.length - 1]
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!))
      if (low.get(frame.node) === index.get(frame.node)) {
        let w: string
        do {
          w = stack.pop()!
          onStack.delete(w)
          component.set(w, components)
        } while (w !== frame.node)
        components++
      }
    }
  }
  for (const e of edgeRows) visit(e.ti)

  /** The shortest path from `from` to `to` inside their component, as node ids. */
  const pathBack = (from: string, to: string): Array<string> => {
    const c = component.get(from)
    const previous = new Map<string, string>([[from, from]])
    const queue = [from]
    for (let i = 0; i < queue.length && !previous.has(to); i++) {
      for (const w of successors(queue[i]!)) {
        if (component.get(w) === c && !previous.has(w)) previous.set(w, queue[i]!), queue.push(w)
      }
    }
    const path = [to]
    while (path[0] !== from) path.unshift(previous.get(path[0]!)!)
    return path
  }

  const ref = (id: string): NodeRef => ({ kind: kinds.get(id)!, id })
  const found = new Map<string, Violation>()
  for (const e of edgeRows) {
    if (component.get(e.si) === undefined || component.get(e.si) !== component.get(e.ti)) continue
    const nodes = [e.si, ...pathBack(e.ti, e.si)]
    const v: Violation = { invariant: "cycle", edges: nodes.slice(0, -1).map((n, i) => ({ source: ref(n), target: ref(nodes[i + 1]!) })) }
    found.set(violationKey(v), v)
  }
  return [...found.values()]
}

/** The violations in the live state that involve what was touched, or every violation when `touched` is undefined. */
export const findViolations = (db: Database, touched?: Touched): Array<Violation> => {
  if (touched === undefined) return [...cycles(db, undefined), ...orphans(db, undefined)]
  const edges = [...touched.edges]
  // An added edge is checked as a child of each of its ends: the edges of an end that is not live.
  const parents = [...new Set([...touched.parents, ...edges.flatMap((id) => id.split(">"))])]
  return [...cycles(db, edges), ...orphans(db, { children: [...touched.children], parents })]
}

/** Whether a recorded violation still holds in the live state. */
export const stillHolds = (db: Database, v: Violation): boolean => {
  const byIds = db.query(liveEdge)
  const tables: Record<string, string> = { epic: "epics", task: "tasks", subtask: "subtasks" }
  const live = (kind: string, id: string) =>
    kind === "dependency"
      ? byIds.get(...(id.split(">") as [string, string])) !== null
      : tables[kind] !== undefined && db.query(`SELECT 1 FROM ${tables[kind]} WHERE id = ?`).get(id) !== null
  return v.invariant === "cycle"
    ? v.edges.every((e) => byIds.get(e.source.id, e.target.id) !== null)
    : live(v.child.kind, v.child.id) && !live(v.parent.kind, v.parent.id)
}

/** The entities a violation names: a cycle's edges, an orphan's child and parent. */
export const namedEntities = (v: Violation): Array<string> =>
  v.invariant === "cycle" ? v.edges.map((e) => edgeId(e.source, e.target)) : [v.child.id, v.parent.id]

/** The events behind a violation, read from the log: the newest event of each entity it names. */
export const eventsBehind = (db: Database, v: Violation): Behind => {
  const newest = db.query("SELECT max(seq) AS seq FROM events WHERE entity_id = ?")
  const seqOf = (id: string) => (newest.get(id) as { seq: number | null }).seq
  return v.invariant === "cycle"
    ? v.edges.map((e) => ({ role: "edge" as const, entity: edgeId(e.source, e.target), seq: seqOf(edgeId(e.source, e.target)) }))
    : [{ role: "child" as const, entity: v.child.id, seq: seqOf(v.child.id) }, { role: "parent" as const, entity: v.parent.id, seq: seqOf(v.parent.id) }]
}
