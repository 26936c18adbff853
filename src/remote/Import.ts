import type { Database } from "bun:sqlite"
import { creationsOf, holds, type LogRow, newestSeqOfLog, nextPos, openTransaction, rowAt } from "../events/log.ts"
import { chainDigests, chainHead } from "../events/chain.ts"
import { ensureStream, localReplica } from "../events/streams.ts"
import type { Knowledge } from "../causality/Knowledge.ts"
import type { Bundle, BundleEvent, BundleTransaction, StreamKey } from "./Bundle.ts"

/** A verified bundle and the ref it came from. */
export interface FetchedBundle {
  readonly ref: string
  readonly name: string
  readonly bundle: Bundle
}

/** Why a ref's events were not imported. */
export interface Refusal {
  readonly ref: string
  readonly code: "history_rewritten" | "bundle_corrupt" | "bundle_unauthenticated"
  readonly detail: string
}

/** An event to import, with its context resolved out of its bundle. */
export interface Candidate {
  readonly ref: string
  readonly stream: StreamKey
  readonly event: BundleEvent
  /** Unique per origin transaction: events of one transaction share a local one. */
  readonly txKey: string
  readonly tx: BundleTransaction
  readonly frontier: ReadonlyArray<readonly [StreamKey, number]>
  readonly seen: ReadonlyArray<readonly [StreamKey, number]> | null
  /** Its link in the stream's hash chain: the writer's, checked against its content (computed for older bundles). */
  readonly digest: string
}

export interface ImportPlan {
  /** New events in an order that respects causality: an event comes after everything in its causal past. */
  readonly order: ReadonlyArray<Candidate>
  /** Events this database already holds. */
  readonly known: number
  /** Events whose causal past is not here yet (a ref not yet pushed or refused): they wait for a later fetch. */
  readonly waiting: number
  readonly refused: ReadonlyArray<Refusal>
}


const keyText = ([replica, branch]: StreamKey) => `${replica}\u0000${branch}`
const creations = ["epic.created", "task.created", "subtask.created"]
const byClock = (a: Candidate, b: Candidate) =>
  a.event.clock - b.event.clock || (a.event.id < b.event.id ? -1 : a.event.id > b.event.id ? 1 : 0)

/**
 * Imports events from other clones. Each keeps its id, stream, clock and
 * causal context; it is placed after its causal past (its stream's earlier
 * events, what its stream had pulled, its entity's creation, and for an
 * --if-version write what its writer held), so every rule that compares
 * local sequence numbers holds for it as for an event written here.
 */
export const makeImporter = (db: Database, knowledge: Knowledge) => {
  const replicaId = (name: string, create: boolean): number | undefined =>
    (db.query("SELECT id FROM replicas WHERE name = ?").get(name) as { id: number } | null)?.id ??
      (create ? (db.query("INSERT INTO replicas (name) VALUES (?) RETURNING id").get(name) as { id: number }).id : undefined)

  const streamIdOf = ([replica, branch]: StreamKey, create: boolean): number | undefined => {
    const r = replicaId(replica, create)
    if (r === undefined) return undefined
    if (create) return ensureStream(db, r, branch, r === localReplica ? branch : `${branch}@${replica}`)
    return (db.query("SELECT id FROM streams WHERE replica_id = ? AND branch = ?").get(r, branch) as { id: number } | null)?.id
  }

  const highestPos = (key: StreamKey): number => {
    const id = streamIdOf(key, false)
    return id === undefined ? 0 : nextPos(db, id) - 1
  }

  /** Checks bundles against what is here and orders the new events causally. Reads only. */
  const plan = (bundles: ReadonlyArray<FetchedBundle>): ImportPlan => {
    const refused: Array<Refusal> = []
    const queues: Array<Array<Candidate>> = []
    let known = 0
    const byRef = new Map<string, Array<FetchedBundle>>()
    for (const b of bundles) byRef.set(b.ref, [...(byRef.get(b.ref) ?? []), b])
    for (const [ref, list] of byRef) {
      const stream: StreamKey = [list[0]!.bundle.replica, list[0]!.bundle.branch]
      const candidates = list.flatMap((b) =>
        b.bundle.events.map((event): Candidate => {
          const resolve = (f: ReadonlyArray<readonly [number, number]>) => f.map(([s, pos]) => [b.bundle.streams[s]!, pos] as const)
          return {
            ref,
            stream,
            event,
            txKey: `${b.name}#${event.tx}`,
            tx: b.bundle.transactions[event.tx]!,
            frontier: resolve(event.frontier),
            seen: event.seen === null ? null : resolve(event.seen),
            digest: event.digest ?? ""
          }
        })
      ).sort((a, b) => a.event.pos - b.event.pos)
      const have = highestPos(stream)
      const id = streamIdOf(stream, false)
      const held = id === undefined ? [] : candidates.filter((c) => c.event.pos <= have)
      // What was imported (or written) here must be exactly what the ref says at those positions.
      // Same id is not enough: a forged copy can keep ids and change payloads.
      const mismatch = held.find((c) => {
        const here = rowAt(db, id!, c.event.pos)
        return here === undefined || here.id !== c.event.id || here.clock !== c.event.clock || here.entity_id !== c.event.entity ||
          here.op !== c.event.op || here.payload !== c.event.payload || here.cause_id !== c.event.cause ||
          (c.event.digest !== undefined && here.digest !== c.event.digest)
      })
      if (mismatch !== undefined) {
        refused.push({ ref, code: "history_rewritten", detail: `position ${mismatch.event.pos} of ${stream[1]}@${stream[0]} holds another event here than ${mismatch.event.id}` })
        continue
      }
      const unchained = candidates.filter((c) => c.event.pos > have)
      if (unchained.length > 0 && unchained[0]!.event.pos !== have + 1) {
        refused.push({ ref, code: "bundle_corrupt", detail: `the ref skips positions ${have + 1}-${unchained[0]!.event.pos - 1}` })
        continue
      }
      // The chain continues from the stream's newest event here: a digest that does not match its event's
      // content and the chain before it means the bundle was edited (or the writer's log was).
      const digests = chainDigests(id === undefined ? null : chainHead(db, id), unchained.map((c) => ({
        id: c.event.id,
        replica: stream[0],
        branch: stream[1],
        pos: c.event.pos,
        clock: c.event.clock,
        entityKind: c.event.kind,
        entityId: c.event.entity,
        op: c.event.op,
        payload: c.event.payload,
        payloadVersion: c.event.payloadVersion,
        causeId: c.event.cause,
        ifVersion: c.event.ifVersion,
        worktree: c.tx.worktree,
        head: c.tx.head,
        actor: c.tx.actor,
        at: c.tx.at
      })))
      const forged = unchained.findIndex((c, i) => c.event.digest !== undefined && c.event.digest !== digests[i])
      if (forged !== -1) {
        const c = unchained[forged]!
        refused.push({ ref, code: "bundle_corrupt", detail: `event ${c.event.id} at position ${c.event.pos}: its digest does not match its content and the chain before it` })
        continue
      }
      const fresh = unchained.map((c, i) => ({ ...c, digest: digests[i]! }))
      const elsewhere = fresh.find((c) => holds(db, c.event.id))
      if (elsewhere !== undefined) {
        refused.push({ ref, code: "history_rewritten", detail: `event ${elsewhere.event.id} is here already, at another place` })
        continue
      }
      known += held.length
      if (fresh.length > 0) queues.push(fresh)
    }

    // Schedule: repeatedly take, of the streams' next events whose causal past is here, the one with the smallest clock.
    const reached = new Map<string, number>()
    const reachedOf = (key: StreamKey) => {
      const k = keyText(key)
      let pos = reached.get(k)
      if (pos === undefined) {
        pos = highestPos(key)
        reached.set(k, pos)
      }
      return pos
    }
    const created = new Set<string>()
    // Edges and streams (knowledge events) have no creation event.
    const uncreated = (kind: string) => kind === "dependency" || kind === "stream"
    const needCreation = [...new Set(queues.flat().filter((c) => !uncreated(c.event.kind) && !creations.includes(c.event.op)).map((c) => c.event.entity))]
    for (const r of creationsOf(db, needCreation)) created.add(r.entity_id)
    const ready = (c: Candidate) =>
      reachedOf(c.stream) === c.event.pos - 1 &&
      c.frontier.every(([key, pos]) => reachedOf(key) >= pos) &&
      (c.seen ?? []).every(([key, pos]) => reachedOf(key) >= pos) &&
      (uncreated(c.event.kind) || creations.includes(c.event.op) || created.has(c.event.entity))
    const next = queues.map(() => 0)
    const order: Array<Candidate> = []
    for (;;) {
      let best: number | undefined
      for (let q = 0; q < queues.length; q++) {
        const c = queues[q]![next[q]!]
        if (c !== undefined && ready(c) && (best === undefined || byClock(c, queues[best]![next[best]!]!) < 0)) best = q
      }
      if (best === undefined) break
      const c = queues[best]![next[best]!++]!
      order.push(c)
      reached.set(keyText(c.stream), c.event.pos)
      if (creations.includes(c.event.op)) created.add(c.event.entity)
    }
    const waiting = queues.reduce((n, q, i) => n + q.length - next[i]!, 0)
    return { order, known, waiting, refused }
  }

  const frontierIds = new Map<string, number>()

  /**
   * The log rows of planned events (in plan order), for the write path to
   * append: their git context recorded as transactions and their causal
   * context placed in this database's frontiers. Runs in the write
   * transaction that appends them, since the frontiers point at the seqs the
   * rows take there.
   */
  const prepare = (batch: ReadonlyArray<Candidate>): ReadonlyArray<Omit<LogRow, "seq">> => {
    // Another process may have imported some of these since the plan.
    const fresh = batch.filter((c) => !holds(db, c.event.id))
    // Seqs the batch's events will take (appendRows numbers them in this order), for frontiers that point into the batch.
    let seq = newestSeqOfLog(db)
    const placed = new Map<string, number>()
    const localize = (f: ReadonlyArray<readonly [StreamKey, number]>): number => {
      const vector: Record<number, number> = {}
      for (const [key, pos] of f) {
        const stream = streamIdOf(key, true)!
        vector[stream] = placed.get(`${stream}:${pos}`) ?? rowAt(db, stream, pos)!.seq
      }
      const text = JSON.stringify(vector)
      let id = frontierIds.get(text)
      if (id === undefined) {
        id = knowledge.store(vector)
        frontierIds.set(text, id)
      }
      return id
    }
    const txIds = new Map<string, number>()
    const rows = fresh.map((c) => {
      const stream = streamIdOf(c.stream, true)!
      let tx = txIds.get(c.txKey)
      if (tx === undefined) {
        tx = openTransaction(db, { streamId: stream, worktree: c.tx.worktree, head: c.tx.head, actor: c.tx.actor, at: c.tx.at })
        txIds.set(c.txKey, tx)
      }
      const e = c.event
      const row = {
        id: e.id,
        tx_id: tx,
        stream_id: stream,
        clock: e.clock,
        entity_kind: e.kind,
        entity_id: e.entity,
        op: e.op,
        payload: e.payload,
        payload_version: e.payloadVersion,
        cause_id: e.cause,
        frontier_id: localize(c.frontier),
        if_version: e.ifVersion ? 1 as const : 0 as const,
        pos: e.pos,
        seen_frontier_id: c.seen === null ? null : localize(c.seen),
        digest: c.digest
      }
      placed.set(`${stream}:${e.pos}`, ++seq)
      return row
    })

    return rows
  }

  return { plan, prepare }
}

export type Importer = ReturnType<typeof makeImporter>
