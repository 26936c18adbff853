import { Context, Effect, Layer } from "effect"
import { draft } from "../events/Event.ts"
import { GitContext } from "../events/GitContext.ts"
import { GroveError, InvalidInput } from "../errors/index.ts"
import type { Subtask, Task } from "../projections/Queries.ts"
import { type Lease, Work } from "../projections/Work.ts"
import { Graph } from "../graph/Graph.ts"
import { type Emit, Writer } from "../write/Writer.ts"
import { InvalidTransition } from "../graph/rules.ts"
import { renewLease, renewLeases } from "./Leases.ts"
import { Tracker } from "./Tracker.ts"
import { type Acting, whoActs as actingOwner } from "./Acting.ts"

export class ClaimLost extends GroveError("ClaimLost", "claim_lost") {}
export class NotOwner extends GroveError("NotOwner", "not_owner") {}

export type WorkKind = "task" | "subtask"
type WorkItem = Task | Subtask

export interface ClaimOptions extends Acting {
  /** Lease length in ms: the claim can be taken over once it has passed without a write by the owner. */
  readonly lease?: number | undefined
  readonly ifVersion?: number | undefined
}

/**
 * Claims, leases and who may finish: a claim is a compare-and-swap inside one
 * write transaction; a lease lets a claim whose owner went silent be taken
 * over; every write by the owner through these commands renews it.
 */
export class Claims extends Context.Tag("grove/Claims")<Claims, ReturnType<typeof makeClaims>>() {
  static readonly layer = Layer.effect(
    Claims,
    Effect.gen(function*() {
      return makeClaims(yield* Tracker, yield* Writer, yield* Graph, yield* Work, yield* GitContext)
    })
  )
}

const makeClaims = (
  tracker: typeof Tracker.Service,
  writer: typeof Writer.Service,
  graph: typeof Graph.Service,
  work: typeof Work.Service,
  git: typeof GitContext.Service
) => {
  const whoActs = actingOwner(git)

  const item = (kind: WorkKind, id: string) => Effect.map(tracker.find(kind, id), (e) => e as WorkItem)

  const isExpired = (lease: Lease | null, now: number) => lease !== null && lease.expiresAt <= now

  const renew = (emit: Emit, kind: WorkKind, id: string, who: string) => renewLease(work, emit, kind, id, who)
  const renewAround = (emit: Emit, entity: WorkItem, who: string) => renewLeases(work, emit, entity, who)

  /** Fails unless `who` may change a claimed item: its owner, anyone when unowned, or anyone with --force. */
  const checkOwner = (entity: WorkItem, who: string, force: boolean | undefined, action: string) =>
    entity.owner === null || entity.owner === who || force === true
      ? Effect.void
      : Effect.fail(
        new NotOwner({
          message: `${entity.kind} ${entity.id} is claimed by ${entity.owner}, not ${who}: only its owner may ${action} it (or use --force)`,
          details: { id: entity.id, kind: entity.kind, owner: entity.owner, actor: who }
        })
      )

  /** Claims inside an open write: shared by `claim` and `next --claim`. */
  const claimIn = (emit: Emit, kind: WorkKind, id: string, who: string, options: ClaimOptions) =>
    Effect.gen(function*() {
      const entity = yield* item(kind, id)
      const lease = yield* work.lease(id)
      const now = Date.now()
      let previous: { readonly owner: string; readonly expiredAt: number } | null = null
      if (entity.owner !== null && entity.owner !== who) {
        if (!(entity.status === "in_progress" && isExpired(lease, now))) {
          return yield* new ClaimLost({
            message: `${kind} ${id} is claimed by ${entity.owner}${lease === null ? "" : ` (lease until ${new Date(lease.expiresAt).toISOString()})`}`,
            details: { id, kind, owner: entity.owner, leaseExpiresAt: lease === null ? null : new Date(lease.expiresAt).toISOString() }
          })
        }
        previous = { owner: entity.owner, expiredAt: lease!.expiresAt }
      }
      if (entity.status === "done") {
        return yield* new InvalidTransition({
          message: `${kind} ${id} is done; reopen it with update --status in_progress rather than claiming it`,
          details: { id, from: "done", to: "in_progress" }
        })
      }
      yield* graph.checkVersion(entity, options.ifVersion)
      const held = entity.owner === who && entity.status === "in_progress"
      if (!held) {
        if (entity.status !== "in_progress") yield* graph.checkStatus(entity, "in_progress")
        yield* emit([draft(`${kind}.claimed`, { kind, id }, { owner: who, status: "in_progress" }, { ifVersion: options.ifVersion !== undefined })])
      }
      if (options.lease !== undefined) yield* emit([draft(`${kind}.leased`, { kind, id }, { owner: who, lease: options.lease })])
      else if (held) yield* renew(emit, kind, id, who)
      if (kind === "subtask") yield* renew(emit, "task", (entity as Subtask).taskId, who)
      return {
        claimed: true as const,
        changed: !held,
        entity: yield* item(kind, id),
        lease: yield* work.lease(id),
        previous
      }
    })

  const claim = (kind: WorkKind, id: string, options: ClaimOptions) =>
    Effect.flatMap(whoActs(options), (who) => writer.write((emit) => claimIn(emit, kind, id, who, options)))

  /** Back to todo with no owner (a done item keeps its status): its owner, or anyone with --force. */
  const release = (kind: WorkKind, id: string, acting: Acting) =>
    Effect.flatMap(whoActs(acting), (who) =>
      writer.write((emit) =>
        Effect.gen(function*() {
          const entity = yield* item(kind, id)
          if (entity.owner === null) return { entity, changed: false, previousOwner: null }
          yield* checkOwner(entity, who, acting.force, "release")
          yield* emit([draft(`${kind}.updated`, { kind, id }, entity.status === "in_progress" ? { owner: null, status: "todo" } : { owner: null })])
          return { entity: yield* item(kind, id), changed: true, previousOwner: entity.owner as string | null }
        })
      ))

  /** Renews the lease (or sets one with `lease`); only the owner may. */
  const heartbeat = (kind: WorkKind, id: string, options: Acting & { readonly lease?: number | undefined }) =>
    Effect.flatMap(whoActs(options), (who) =>
      writer.write((emit) =>
        Effect.gen(function*() {
          const entity = yield* item(kind, id)
          if (entity.owner !== who) {
            return yield* new NotOwner({
              message: `${kind} ${id} is ${entity.owner === null ? "not claimed" : `claimed by ${entity.owner}`}, not by ${who}: there is no lease of yours to renew`,
              details: { id, kind, owner: entity.owner, actor: who }
            })
          }
          const current = yield* work.lease(id)
          const leaseMs = options.lease ?? current?.leaseMs
          if (leaseMs === undefined) {
            return yield* new InvalidInput({ message: `${kind} ${id} has no lease to renew; give --lease`, details: { id, flag: "lease" } })
          }
          yield* emit([draft(`${kind}.leased`, { kind, id }, { owner: who, lease: leaseMs })])
          return { entity, lease: yield* work.lease(id) }
        })
      ))

  /**
   * Marks an item done; only its owner may when it is claimed (or anyone with
   * --force). Returns what that let through: the nodes it unblocked.
   */
  const finish = (kind: WorkKind, id: string, options: Acting & { readonly ifVersion?: number | undefined }) =>
    Effect.gen(function*() {
      const who = yield* whoActs(options)
      const result = yield* tracker.done(kind, id, options.ifVersion, (entity, emit) =>
        Effect.gen(function*() {
          yield* checkOwner(entity as WorkItem, who, options.force, "finish")
          // The item's own lease ends with it; a subtask's work renews its task's lease.
          if (kind === "subtask") yield* renew(emit, "task", (entity as Subtask).taskId, who)
        }))
      return { ...result, who, unblocked: result.changed ? yield* work.unblockedBy({ kind, id }) : [] }
    })

  return { whoActs, claimIn, claim, release, heartbeat, finish, renewAround }
}
