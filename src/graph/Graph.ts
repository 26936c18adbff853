import { Context, Effect, Layer } from "effect"
import { edgeId, type NodeRef, type Status } from "../events/Event.ts"
import { NotFound } from "../errors/index.ts"
import { type Dependency, type Entity, Queries, type Subtask, type Task } from "../projections/Queries.ts"
import type { DatabaseBusy, DatabaseError } from "../storage/errors.ts"
import {
  canTransition,
  DependencyCycle,
  DependencyExists,
  DependencyNotDone,
  InvalidTransition,
  isGated,
  SelfDependency,
  VersionMismatch
} from "./rules.ts"

export type EntityKindName = Entity["kind"]

/** What a delete of an entity takes with it: its subtree and every edge touching them. */
export interface Subtree {
  readonly tasks: ReadonlyArray<Task>
  readonly subtasks: ReadonlyArray<Subtask>
  /** Sorted by edge id. */
  readonly edges: ReadonlyArray<{ readonly source: NodeRef; readonly target: NodeRef }>
}

type ReadError = DatabaseError | DatabaseBusy

const notFound = (kind: string, id: string) => new NotFound({ message: `no ${kind} with id ${id}`, details: { kind, id } })

/**
 * The graph's rules over the live projection, one place for every caller
 * (commands, bulk, resolutions and restores): lookups that fail with
 * not_found, the version rule, the status machine and its dependency gate,
 * the edge rules (no self edge, no duplicate, no cycle, both ends live), and
 * what a delete cascades to.
 */
export class Graph extends Context.Tag("grove/Graph")<Graph, ReturnType<typeof makeGraph>>() {
  static readonly layer = Layer.effect(Graph, Effect.map(Queries, (queries) => makeGraph(queries)))
}

const makeGraph = (queries: typeof Queries.Service) => {
  const find = (kind: EntityKindName, id: string): Effect.Effect<Entity, NotFound | ReadError> =>
    Effect.flatMap(
      (kind === "epic" ? queries.epic(id) : kind === "task" ? queries.task(id) : queries.subtask(id)) as Effect.Effect<Entity | undefined, ReadError>,
      (e) => (e === undefined ? Effect.fail(notFound(kind, id)) : Effect.succeed(e))
    )

  /** A dependency endpoint: a task or a subtask, whichever has the id. */
  const findNode = (id: string): Effect.Effect<Task | Subtask, NotFound | ReadError> =>
    Effect.gen(function*() {
      const task = yield* queries.task(id)
      if (task !== undefined) return task
      const subtask = yield* queries.subtask(id)
      if (subtask !== undefined) return subtask
      return yield* new NotFound({ message: `no task or subtask with id ${id}`, details: { id } })
    })

  /** `--if-version N`: refused unless the entity is still at version N. */
  const checkVersion = (entity: Entity, ifVersion: number | undefined) =>
    ifVersion === undefined || ifVersion === entity.version
      ? Effect.void
      : Effect.fail(
        new VersionMismatch({
          message: `${entity.kind} ${entity.id} is at version ${entity.version}, not ${ifVersion}; nothing was written`,
          details: { id: entity.id, expected: ifVersion, actual: entity.version }
        })
      )

  /** The status machine (DESIGN.md section 5), and entering in_progress or done only when every dependency is done. */
  const checkStatus = (entity: Entity, to: Status, options: { readonly straightToDone?: boolean } = {}) =>
    Effect.gen(function*() {
      if (!canTransition(entity.status, to, options)) {
        return yield* new InvalidTransition({
          message: `${entity.kind} ${entity.id} cannot go from ${entity.status} to ${to}`,
          details: { id: entity.id, from: entity.status, to }
        })
      }
      if (isGated(to) && entity.kind !== "epic") {
        const undone = yield* queries.undoneDependencies({ kind: entity.kind, id: entity.id })
        if (undone.length > 0) {
          return yield* new DependencyNotDone({
            message: `${entity.kind} ${entity.id} cannot enter ${to}: ${undone.length} dependenc${undone.length === 1 ? "y is" : "ies are"} not done (${undone.map((d) => d.id).join(", ")})`,
            details: { id: entity.id, to, undone }
          })
        }
      }
    })

  /** A new edge `source` depends on `target`: both ends exist, it is not a self edge, not there yet, and closes no cycle. */
  const checkNewEdge = (sourceId: string, targetId: string) =>
    Effect.gen(function*() {
      if (sourceId === targetId) {
        return yield* new SelfDependency({ message: `${sourceId} cannot depend on itself`, details: { id: sourceId } })
      }
      const s = yield* findNode(sourceId)
      const t = yield* findNode(targetId)
      const source: NodeRef = { kind: s.kind, id: s.id }
      const target: NodeRef = { kind: t.kind, id: t.id }
      if (yield* queries.edgeExists(source, target)) {
        return yield* new DependencyExists({ message: `${sourceId} already depends on ${targetId}`, details: { source, target } })
      }
      yield* checkAcyclic(source, target, "")
      return { source, target, sourceStatus: s.status, targetStatus: t.status }
    })

  /** Adding source -> target must not close a cycle (`hint` ends the message: what to do instead). */
  const checkAcyclic = (source: NodeRef, target: NodeRef, hint: string) =>
    Effect.flatMap(queries.reaches(target, source), (cycle) =>
      cycle
        ? Effect.fail(
          new DependencyCycle({
            message: `${source.id} -> ${target.id} would form a cycle: ${target.id} already depends on ${source.id}${hint}`,
            details: { source, target }
          })
        )
        : Effect.void)

  /** Re-adding an edge (a restore or a resolution): both ends must be live and it must not close a cycle. */
  const checkReAdd = (source: NodeRef, target: NodeRef, hint: string) =>
    Effect.gen(function*() {
      if (yield* queries.edgeExists(source, target)) return
      for (const end of [source, target]) {
        if (!(yield* queries.isLive(end.kind, end.id))) {
          return yield* new NotFound({
            message: `cannot re-add ${edgeId(source, target)}: ${end.kind} ${end.id} no longer exists${hint}`,
            details: { missing: end }
          })
        }
      }
      yield* checkAcyclic(source, target, hint)
    })

  /** Everything a delete of (kind, id) takes: tasks, subtasks (each by id) and every edge touching them or the root. */
  const subtree = (kind: EntityKindName, id: string): Effect.Effect<Subtree, ReadError> =>
    Effect.gen(function*() {
      const tasks = kind === "epic" ? [...(yield* queries.tasks({ epic: id }))].sort(byId) : []
      const parents = kind === "task" ? [id] : tasks.map((t) => t.id)
      const subtasks = parents.length === 0 ? [] : yield* queries.subtasksOf(parents)
      const edges = new Map<string, Dependency>()
      for (const d of yield* queries.edgesTouching([id, ...tasks.map((t) => t.id), ...subtasks.map((s) => s.id)])) {
        edges.set(edgeId(d.source, d.target), d)
      }
      return {
        tasks,
        subtasks,
        edges: [...edges.keys()].sort().map((k) => ({ source: edges.get(k)!.source, target: edges.get(k)!.target }))
      }
    })

  return { find, findNode, checkVersion, checkStatus, checkNewEdge, checkReAdd, subtree, isLive: queries.isLive, edgeExists: queries.edgeExists }
}

const byId = (a: { readonly id: string }, b: { readonly id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/**
 * A graph of dependency edges in memory, for checking thousands of new edges
 * at once (bulk input) without a recursive query per edge; single edges use
 * the projection's recursive query (`checkNewEdge`).
 */
export class EdgeSet {
  private readonly adjacency = new Map<string, Array<string>>()
  private readonly present = new Set<string>()

  constructor(edges: ReadonlyArray<{ readonly source: NodeRef; readonly target: NodeRef }>) {
    for (const e of edges) this.add(e.source, e.target)
  }

  has(source: NodeRef, target: NodeRef): boolean {
    return this.present.has(edgeId(source, target))
  }

  add(source: NodeRef, target: NodeRef): void {
    this.adjacency.set(source.id, [...(this.adjacency.get(source.id) ?? []), target.id])
    this.present.add(edgeId(source, target))
  }

  /** True when `to` can be reached from `from` along depends-on edges. */
  reaches(from: string, to: string): boolean {
    const seen = new Set<string>([from])
    const stack = [from]
    while (stack.length > 0) {
      const at = stack.pop()!
      if (at === to) return true
      for (const next of this.adjacency.get(at) ?? []) if (!seen.has(next)) seen.add(next), stack.push(next)
    }
    return false
  }
}
