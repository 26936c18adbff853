import type { Database } from "bun:sqlite"
import { Either } from "effect"
import { chainDigests, chainHead } from "../events/chain.ts"
import { readStoredPayload } from "../events/Event.ts"
import { ensureStream, localReplica } from "../events/streams.ts"
import { applyStored, reproject } from "../projections/Replay.ts"
import { insertRows } from "../storage/batch.ts"
import type { Knowledge } from "../sync/Knowledge.ts"
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
  readonly code: "history_rewritten" | "bundle_corrupt"
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

export interface ImportReport {
  readonly imported: number
  readonly quarantined: number
  readonly quarantinedByReason: Readonly<Record<string, number>>
}

const keyText = ([replica, branch]: StreamKey) => `${replica}\u0000${branch}`
const creations = ["epic.created", "task.created", "subtask.created"]
const byClock = (a: Candidate, b: Candidate) =>
  a.event.clock - b.event.clock || (a.event.id < b.event.id ? -1 : a.event.id > b.event.id ? 1 : 0)

const eventColumns = [
  "seq", "id", "tx_id", "stream_id", "clock", "entity_kind", "entity_id", "op", "payload", "payload_version",
  "cause_id", "frontier_id", "if_version", "pos", "seen_frontier_id", "digest"
] as const

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
    return id === undefined ? 0 : (db.query("SELECT coalesce(max(pos), 0) AS pos FROM events WHERE stream_id = ?").get(id) as { pos: number }).pos
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
        const here = db.query("SELECT id, clock, entity_id, op, payload, cause_id, digest FROM events WHERE stream_id = ? AND pos = ?").get(id!, c.event.pos) as
          | { id: string; clock: number; entity_id: string; op: string; payload: string; cause_id: string | null; digest: string }
          | null
        return here === null || here.id !== c.event.id || here.clock !== c.event.clock || here.entity_id !== c.event.entity ||
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
      const elsewhere = fresh.find((c) => db.query("SELECT 1 FROM events WHERE id = ?").get(c.event.id) !== null)
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
    const needCreation = [...new Set(queues.flat().filter((c) => c.event.kind !== "dependency" && !creations.includes(c.event.op)).map((c) => c.event.entity))]
    for (let i = 0; i < needCreation.length; i += 500) {
      const chunk = needCreation.slice(i, i + 500)
      const rows = db.query(
        `SELECT DISTINCT entity_id AS e FROM events WHERE entity_id IN (${chunk.map(() => "?").join(", ")}) AND op IN ('epic.created', 'task.created', 'subtask.created')`
      ).all(...chunk) as Array<{ e: string }>
      for (const r of rows) created.add(r.e)
    }
    const ready = (c: Candidate) =>
      reachedOf(c.stream) === c.event.pos - 1 &&
      c.frontier.every(([key, pos]) => reachedOf(key) >= pos) &&
      (c.seen ?? []).every(([key, pos]) => reachedOf(key) >= pos) &&
      (c.event.kind === "dependency" || creations.includes(c.event.op) || created.has(c.event.entity))
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
   * Appends planned events (in plan order) inside the current write
   * transaction: the log, the projection (entities an older event reached are
   * projected again in clock order), the clock advanced past them, and each
   * imported stream's knowledge (what its newest event knew).
   */
  const apply = (batch: ReadonlyArray<Candidate>): ImportReport => {
    const byReason: Record<string, number> = {}
    // Another process may have imported some of these since the plan.
    const fresh = batch.filter((c) => db.query("SELECT 1 FROM events WHERE id = ?").get(c.event.id) === null)
    if (fresh.length === 0) return { imported: 0, quarantined: 0, quarantinedByReason: byReason }
    let seq = (db.query("SELECT coalesce(max(seq), 0) AS seq FROM events").get() as { seq: number }).seq
    const placed = new Map<string, number>()
    const localize = (f: ReadonlyArray<readonly [StreamKey, number]>): number => {
      const vector: Record<number, number> = {}
      for (const [key, pos] of f) {
        const stream = streamIdOf(key, true)!
        vector[stream] = placed.get(`${stream}:${pos}`) ?? (db.query("SELECT seq FROM events WHERE stream_id = ? AND pos = ?").get(stream, pos) as { seq: number }).seq
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
    const newest = new Map<number, number>()
    const rows = fresh.map((c) => {
      const stream = streamIdOf(c.stream, true)!
      let tx = txIds.get(c.txKey)
      if (tx === undefined) {
        tx = (db.query("INSERT INTO transactions (stream_id, worktree, head, actor, committed_at) VALUES (?, ?, ?, ?, ?) RETURNING id")
          .get(stream, c.tx.worktree, c.tx.head, c.tx.actor, c.tx.at) as { id: number }).id
        txIds.set(c.txKey, tx)
      }
      const e = c.event
      const row = [
        ++seq, e.id, tx, stream, e.clock, e.kind, e.entity, e.op, e.payload, e.payloadVersion,
        e.cause, localize(c.frontier), e.ifVersion ? 1 : 0, e.pos, c.seen === null ? null : localize(c.seen), c.digest
      ]
      placed.set(`${stream}:${e.pos}`, seq)
      newest.set(stream, row[11] as number)
      return row
    })

    // The projection: entities whose history here has a newer clock than an imported event are replayed whole.
    const entities = [...new Set(fresh.map((c) => c.event.entity))]
    const latest = new Map<string, number>()
    for (let i = 0; i < entities.length; i += 500) {
      const chunk = entities.slice(i, i + 500)
      const found = db.query(`SELECT entity_id AS e, max(clock) AS clock FROM events WHERE entity_id IN (${chunk.map(() => "?").join(", ")}) GROUP BY entity_id`)
        .all(...chunk) as Array<{ e: string; clock: number }>
      for (const r of found) latest.set(r.e, r.clock)
    }
    insertRows(db, "events", eventColumns, rows)
    const replay = new Set(fresh.filter((c) => (latest.get(c.event.entity) ?? -1) > c.event.clock).map((c) => c.event.entity))
    let quarantined = 0
    fresh.forEach((c, i) => {
      const readable = readStoredPayload(c.event.op, c.event.payload)
      if (Either.isLeft(readable)) {
        db.query("INSERT OR IGNORE INTO quarantine (event_seq, reason, detail, quarantined_at) VALUES (?, ?, ?, ?)").run(rows[i]![0] as number, readable.left.reason, readable.left.detail, Date.now())
        quarantined++
        byReason[readable.left.reason] = (byReason[readable.left.reason] ?? 0) + 1
      }
    })
    applyStored(
      db,
      fresh.filter((c) => !replay.has(c.event.entity)).sort(byClock).map((c) => ({
        op: c.event.op as never,
        entityKind: c.event.kind as never,
        entityId: c.event.entity,
        payload: c.event.payload,
        clock: c.event.clock
      }))
    )
    reproject(db, [...replay])

    db.query("UPDATE hlc SET last = max(last, ?)").run(Math.max(...fresh.map((c) => c.event.clock)))
    // An imported stream knows what its newest event knew; this replica's own streams keep what they pulled here.
    for (const [stream, frontierId] of newest) {
      if ((db.query("SELECT replica_id FROM streams WHERE id = ?").get(stream) as { replica_id: number }).replica_id === localReplica) continue
      db.query("INSERT INTO stream_knowledge (stream_id, frontier_id) VALUES (?, ?) ON CONFLICT (stream_id) DO UPDATE SET frontier_id = excluded.frontier_id")
        .run(stream, frontierId)
    }
    return { imported: fresh.length, quarantined, quarantinedByReason: byReason }
  }

  return { plan, apply }
}

export type Importer = ReturnType<typeof makeImporter>
