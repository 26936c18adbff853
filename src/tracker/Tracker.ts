import { Context, Effect, Layer } from "effect"
import { draft, edgeId, type EventDraft, type Status } from "../events/Event.ts"
import { newEntityId } from "../events/ids.ts"
import type { PayloadOf } from "../events/operations.ts"
import { InvalidInput, NotFound } from "../errors/index.ts"
import { type EntityKindName, Graph } from "../graph/Graph.ts"
import { DependencySourceDone } from "../graph/rules.ts"
import type { Entity, Epic, Subtask, Task } from "../projections/Queries.ts"
import type { DatabaseBusy, DatabaseError } from "../storage/errors.ts"
import { type Emit, Writer } from "../write/Writer.ts"
import { GitContext } from "../events/GitContext.ts"
import { Work } from "../projections/Work.ts"
import { renewLeases } from "./Leases.ts"

export interface Patch {
  readonly title?: string | undefined
  readonly description?: string | undefined
  readonly status?: Status | undefined
  readonly owner?: string | null | undefined
}

export interface NewEntity {
  readonly title: string
  readonly description?: string | undefined
  readonly owner?: string | null | undefined
}

/** Runs inside a write before it changes anything: a check (who may do it) and writes of its own. */
export type Before<E> = (entity: Entity, emit: Emit) => Effect.Effect<void, E | DatabaseError | DatabaseBusy>


/**
 * The tracker's commands. Every command reads, checks its rules and writes in
 * one BEGIN IMMEDIATE transaction, so checks and writes cannot interleave with
 * another process: a claim is a true compare-and-swap.
 */
export class Tracker extends Context.Tag("grove/Tracker")<Tracker, ReturnType<typeof makeTracker>>() {
  static readonly layer = Layer.effect(
    Tracker,
    Effect.map(Effect.all([Writer, Graph, Work, GitContext]), ([writer, graph, work, git]) => makeTracker(writer, graph, work, git))
  )
}

/** Titles are trimmed by the payload Schema; an empty one would fail it, so it is refused up front. */
const checkTitle = (title: string) =>
  title.trim() === ""
    ? Effect.fail(new InvalidInput({ message: "a title must not be empty", details: { field: "title" } }))
    : Effect.void

const makeTracker = (writer: typeof Writer.Service, graph: typeof Graph.Service, work: typeof Work.Service, git: typeof GitContext.Service) => {
  const { write } = writer
  const { find, checkVersion, checkStatus } = graph

  const create = (kind: EntityKindName, parent: string | undefined, input: NewEntity) =>
    write((emit) =>
      Effect.gen(function*() {
        yield* checkTitle(input.title)
        const title = input.title.trim()
        const id = newEntityId(kind)
        const description = input.description ?? ""
        if (kind === "epic") {
          yield* emit([draft("epic.created", { kind, id }, { title, description, status: "todo" })])
        } else if (kind === "task") {
          yield* find("epic", parent!)
          yield* emit([draft("task.created", { kind, id }, { epic: parent!, title, description, status: "todo", owner: input.owner ?? null })])
        } else {
          yield* find("task", parent!)
          yield* emit([draft("subtask.created", { kind, id }, { task: parent!, title, description, status: "todo", owner: input.owner ?? null })])
        }
        return yield* find(kind, id)
      })
    )

  const update = (kind: EntityKindName, id: string, patch: Patch, ifVersion?: number) =>
    write((emit) =>
      Effect.gen(function*() {
        if (patch.title !== undefined) yield* checkTitle(patch.title)
        const entity = yield* find(kind, id)
        yield* checkVersion(entity, ifVersion)
        // A field is written when its value changes, or when it already shows the value but this branch's scope
        // does not agree on it (an unpulled branch wrote it, or it is in conflict here): that write is a decision.
        const changes: Record<string, unknown> = {}
        const current = entity as Partial<Record<string, unknown>>
        const requested: Array<[string, unknown]> = [
          ["title", patch.title?.trim()],
          ["description", patch.description],
          ["status", patch.status],
          ["owner", kind === "epic" ? undefined : patch.owner]
        ]
        for (const [field, value] of requested) {
          if (value === undefined) continue
          if (value !== current[field]) {
            if (field === "status") yield* checkStatus(entity, value as Status)
            changes[field] = value
          } else if (!(yield* writer.agrees(id, field, value))) changes[field] = value
        }
        if (Object.keys(changes).length === 0) return { entity, changed: false }
        yield* emit([draft(`${kind}.updated`, { kind, id }, changes as PayloadOf<"task.updated">, { ifVersion: ifVersion !== undefined })])
        // The claim's owner working on it renews its lease; an update that sets the owner or leaves in_progress ends it.
        if ((entity.kind === "task" || entity.kind === "subtask") && !("owner" in changes) && (changes["status"] ?? "in_progress") === "in_progress") {
          yield* renewLeases(work, emit, entity, (yield* git.resolve).actor)
        }
        return { entity: yield* find(kind, id), changed: true }
      })
    )

  const done = <E = never>(kind: "task" | "subtask", id: string, ifVersion?: number, before?: Before<E>) =>
    write((emit) =>
      Effect.gen(function*() {
        const entity = yield* find(kind, id)
        if (before !== undefined) yield* before(entity, emit)
        yield* checkVersion(entity, ifVersion)
        if (entity.status === "done" && (yield* writer.agrees(id, "status", "done"))) return { entity, changed: false }
        if (entity.status !== "done") yield* checkStatus(entity, "done", { straightToDone: true })
        yield* emit([draft(`${kind}.updated`, { kind, id }, { status: "done" }, { ifVersion: ifVersion !== undefined })])
        return { entity: yield* find(kind, id), changed: true }
      })
    )

  /** Deletes an entity, its subtree and every edge touching them, each as its own event linked to the root's. */
  const remove = (kind: EntityKindName, id: string, ifVersion?: number) =>
    write((emit) =>
      Effect.gen(function*() {
        const root = yield* find(kind, id)
        yield* checkVersion(root, ifVersion)
        const rootEvent = draft(`${kind}.deleted`, { kind, id }, {}, { ifVersion: ifVersion !== undefined })
        const { tasks, subtasks, edges } = yield* graph.subtree(kind, id)
        const cascade: Array<EventDraft> = [
          ...edges.map((e) => draft("dependency.removed", { kind: "dependency", id: edgeId(e.source, e.target) }, e, { causeId: rootEvent.id })),
          ...subtasks.filter((s) => s.id !== id).map((s) => draft("subtask.deleted", s, {}, { causeId: rootEvent.id })),
          ...tasks.filter((t) => t.id !== id).map((t) => draft("task.deleted", t, {}, { causeId: rootEvent.id }))
        ]
        yield* emit([rootEvent, ...cascade])
        return {
          deleted: { kind, id },
          cascade: cascade.map((e) => ({ op: e.op, id: e.entityId })),
          event: rootEvent.id
        }
      })
    )

  /**
   * Adds SOURCE -> TARGET. A done source with a target not done would break
   * "done means dependencies done": refused, unless `force`, which reopens the
   * source to todo in the same transaction.
   */
  const addDependency = (sourceId: string, targetId: string, options: { readonly force?: boolean } = {}) =>
    write((emit) =>
      Effect.gen(function*() {
        const { source, target, sourceStatus, targetStatus } = yield* graph.checkNewEdge(sourceId, targetId)
        const reopen = sourceStatus === "done" && targetStatus !== "done"
        if (reopen && options.force !== true) {
          return yield* new DependencySourceDone({
            message: `${sourceId} is done and ${targetId} is not: a done ${source.kind} cannot wait for anything (--force reopens ${sourceId} to todo)`,
            details: { source, target, targetStatus }
          })
        }
        const added = draft("dependency.added", { kind: "dependency", id: edgeId(source, target) }, { source, target })
        yield* emit(reopen ? [added, draft(`${source.kind}.updated`, source, { status: "todo" })] : [added])
        return { source, target, reopened: reopen }
      })
    )

  const removeDependency = (sourceId: string, targetId: string) =>
    write((emit) =>
      Effect.gen(function*() {
        const s = yield* graph.findNode(sourceId)
        const t = yield* graph.findNode(targetId)
        const source = { kind: s.kind, id: s.id }
        const target = { kind: t.kind, id: t.id }
        if (!(yield* graph.edgeExists(source, target))) {
          return yield* new NotFound({ message: `${sourceId} does not depend on ${targetId}`, details: { source, target } })
        }
        yield* emit([draft("dependency.removed", { kind: "dependency", id: edgeId(source, target) }, { source, target })])
        return { source, target }
      })
    )

  return { find, findNode: graph.findNode, create, update, done, remove, addDependency, removeDependency }
}

export type { EntityKindName } from "../graph/Graph.ts"
export type { Epic, Subtask, Task }
