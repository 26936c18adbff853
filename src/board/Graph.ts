import type { Database } from "bun:sqlite"
import type { NodeKind, Status } from "../events/Event.ts"

/** How a node reads at a glance: ready = todo with every dependency done. */
export type NodeState = "ready" | "in_progress" | "done" | "blocked"

export type GraphNode = {
  readonly id: string
  readonly kind: NodeKind
  readonly title: string
  readonly status: Status
  readonly state: NodeState
  /** Outside the epic: an endpoint of one of its edges. */
  readonly external: boolean
  /** Column: 0 for nodes depending on nothing here, else one past their deepest dependency. */
  readonly level: number
  readonly row: number
  readonly onChain: boolean
}

export type EpicGraph = {
  readonly epic: { readonly id: string; readonly title: string } | null
  readonly nodes: ReadonlyArray<GraphNode>
  /** source depends on target. */
  readonly edges: ReadonlyArray<{ readonly source: string; readonly target: string; readonly onChain: boolean }>
  /** The longest chain of work not done yet, first prerequisite first. */
  readonly chain: ReadonlyArray<string>
}

type Row = { id: string; kind: NodeKind; title: string; status: Status; external: number }

/**
 * The epic's tasks, the subtasks that take part in a dependency, and the
 * outside endpoints of their edges, laid out in dependency levels.
 */
export const epicGraph = (db: Database, epicId: string): EpicGraph =>
  db.transaction(() => {
    const epic = db.query("SELECT id, title FROM epics WHERE id = ?").get(epicId) as EpicGraph["epic"]
    if (epic === null) return { epic: null, nodes: [], edges: [], chain: [] }
    const own = db.query(
      `SELECT id, 'task' AS kind, title, status, 0 AS external FROM tasks WHERE epic_id = ?1
       UNION ALL
       SELECT s.id, 'subtask', s.title, s.status, 0 FROM subtasks s JOIN tasks t ON t.id = s.task_id
       WHERE t.epic_id = ?1 AND EXISTS (SELECT 1 FROM dependencies d WHERE d.source_id = s.id OR d.target_id = s.id)`
    ).all(epicId) as Array<Row>
    const ids = new Set(own.map((n) => n.id))
    const edges = (db.query(
      `SELECT source_id AS source, target_id AS target FROM dependencies
       WHERE source_id IN (SELECT value FROM json_each(?1)) OR target_id IN (SELECT value FROM json_each(?1))
       ORDER BY created_clock`
    ).all(JSON.stringify([...ids])) as Array<{ source: string; target: string }>)
    const outside = [...new Set(edges.flatMap((e) => [e.source, e.target]).filter((id) => !ids.has(id)))]
    const external = outside.length === 0 ? [] : db.query(
      `SELECT id, 'task' AS kind, title, status, 1 AS external FROM tasks WHERE id IN (SELECT value FROM json_each(?1))
       UNION ALL SELECT id, 'subtask', title, status, 1 FROM subtasks WHERE id IN (SELECT value FROM json_each(?1))`
    ).all(JSON.stringify(outside)) as Array<Row>
    return { epic, ...layout([...own, ...external], edges) }
  })()

/** Levels, rows, states and the longest remaining chain of a dependency DAG (edges are acyclic by the domain rules). */
export const layout = (rows: ReadonlyArray<Row>, edges: ReadonlyArray<{ source: string; target: string }>) => {
  const byId = new Map(rows.map((r) => [r.id, r]))
  const targets = new Map<string, Array<string>>()
  for (const e of edges) targets.set(e.source, [...(targets.get(e.source) ?? []), e.target])
  const level = new Map<string, number>()
  const levelOf = (id: string): number => {
    const known = level.get(id)
    if (known !== undefined) return known
    const l = Math.max(-1, ...(targets.get(id) ?? []).filter((t) => byId.has(t)).map(levelOf)) + 1
    level.set(id, l)
    return l
  }
  // Remaining length: this node plus the longest undone chain it still waits on.
  const remaining = new Map<string, { length: number; next: string | undefined }>()
  const remainingOf = (id: string): { length: number; next: string | undefined } => {
    const known = remaining.get(id)
    if (known !== undefined) return known
    let best: { length: number; next: string | undefined } = { length: 0, next: undefined }
    for (const t of targets.get(id) ?? []) {
      if (byId.get(t)?.status === "done" || !byId.has(t)) continue
      const r = remainingOf(t)
      if (r.length > best.length) best = { length: r.length, next: t }
    }
    const mine = { length: byId.get(id)!.status === "done" ? 0 : best.length + 1, next: best.next }
    remaining.set(id, mine)
    return mine
  }
  let head: string | undefined
  for (const r of rows) {
    if (remainingOf(r.id).length > (head === undefined ? 0 : remainingOf(head).length)) head = r.id
  }
  // Walked from the last dependent down to its first prerequisite, then reversed: the order work must happen in.
  const chain: Array<string> = []
  for (let at = head; at !== undefined; at = remainingOf(at).next) chain.push(at)
  chain.reverse()
  const onChain = new Set(chain)
  const chainEdges = new Set(chain.slice(1).map((id, i) => `${id}>${chain[i]}`))
  const rowsInLevel = new Map<number, number>()
  const nodes = rows.map((r): GraphNode => {
    const l = levelOf(r.id)
    const row = rowsInLevel.get(l) ?? 0
    rowsInLevel.set(l, row + 1)
    const waiting = (targets.get(r.id) ?? []).some((t) => byId.get(t)?.status !== "done")
    const state: NodeState = r.status === "done"
      ? "done"
      : r.status === "in_progress"
      ? "in_progress"
      : r.status === "blocked" || waiting
      ? "blocked"
      : "ready"
    return { id: r.id, kind: r.kind, title: r.title, status: r.status, state, external: r.external === 1, level: l, row, onChain: onChain.has(r.id) }
  })
  return {
    nodes,
    edges: edges.filter((e) => byId.has(e.source) && byId.has(e.target)).map((e) => ({ ...e, onChain: chainEdges.has(`${e.source}>${e.target}`) })),
    chain
  }
}
