import type { Database } from "bun:sqlite"
import { streamEntriesAfter } from "../events/log.ts"
import type { Knowledge } from "../causality/Knowledge.ts"
import type { Bundle, BundleEvent, BundleTransaction, PortableFrontier, StreamKey } from "./Bundle.ts"

/** A stream with events, as the database holds it. */
export interface StoredStream {
  readonly id: number
  readonly replica: string
  readonly branch: string
  /** Its highest position here. */
  readonly pos: number
}


/** Events per bundle: a push of a long history writes several. */
export const bundleSize = 10_000

/**
 * Turns a stream's events into bundles: local sequence numbers in causal
 * context become positions in each stream, which mean the same in every clone.
 */
export const makeExporter = (db: Database, knowledge: Knowledge) => {
  const streams = (): Array<StoredStream> =>
    db.query(
      `SELECT s.id, r.name AS replica, s.branch, max(e.pos) AS pos
       FROM streams s JOIN replicas r ON r.id = s.replica_id JOIN events e ON e.stream_id = s.id
       GROUP BY s.id ORDER BY s.id`
    ).all() as Array<StoredStream>

  const keys = new Map<number, StreamKey>()
  const keyOf = (streamId: number): StreamKey => {
    let key = keys.get(streamId)
    if (key === undefined) {
      const r = db.query("SELECT r.name AS replica, s.branch FROM streams s JOIN replicas r ON r.id = s.replica_id WHERE s.id = ?").get(streamId) as
        { replica: string; branch: string }
      key = [r.replica, r.branch]
      keys.set(streamId, key)
    }
    return key
  }

  /** The position of a stream's newest event at or below a local seq (0: none). */
  const portable = (vector: Readonly<Record<number, number>>): Array<readonly [StreamKey, number]> =>
    Object.entries(vector).flatMap(([s, seq]) => {
      const pos = (db.query("SELECT pos FROM events WHERE stream_id = ? AND seq <= ? ORDER BY seq DESC LIMIT 1").get(Number(s), seq) as
        | { pos: number }
        | null)?.pos ?? 0
      return pos === 0 ? [] : [[keyOf(Number(s)), pos] as const]
    })

  const frontiers = new Map<number, Array<readonly [StreamKey, number]>>()
  const portableFrontier = (id: number | null) => {
    if (id === null) return []
    let p = frontiers.get(id)
    if (p === undefined) {
      p = portable(knowledge.byId(id))
      frontiers.set(id, p)
    }
    return p
  }

  /** What the database held when an --if-version write was made here: every event below its seq. */
  const heldBefore = (seq: number) => {
    const vector: Record<number, number> = {}
    for (const { id } of db.query("SELECT id FROM streams").all() as Array<{ id: number }>) vector[id] = seq - 1
    return portable(vector)
  }

  /**
   * Bundles of `stream`'s events after position `after`, at most `bundleSize`
   * events each. With `ends` (the positions its writer signed, for a stream
   * relayed from another replica), each bundle ends at one of them, so it can
   * carry the writer's signature, and events after the last are left out.
   */
  const bundles = (stream: StoredStream, after: number, ends?: ReadonlyArray<number>): Array<Bundle> => {
    const rows = streamEntriesAfter(db, stream.id, after)
    const chunks: Array<typeof rows> = []
    for (let i = 0; i < rows.length;) {
      const first = rows[i]!.pos
      const end = ends === undefined
        ? first + bundleSize - 1
        : ends.findLast((e) => e >= first && e < first + bundleSize)
      if (end === undefined) break
      const chunk = rows.slice(i, i + end - first + 1)
      chunks.push(chunk)
      i += chunk.length
    }
    const out: Array<Bundle> = []
    for (const chunk of chunks) {
      const streamIndex = new Map<string, number>()
      const streamList: Array<StreamKey> = []
      const indexOf = (key: StreamKey) => {
        const k = `${key[0]}/${key[1]}`
        let at = streamIndex.get(k)
        if (at === undefined) {
          at = streamList.length
          streamIndex.set(k, at)
          streamList.push(key)
        }
        return at
      }
      const txIndex = new Map<number, number>()
      const transactions: Array<BundleTransaction> = []
      const indexed = (f: ReadonlyArray<readonly [StreamKey, number]>): PortableFrontier => f.map(([key, pos]) => [indexOf(key), pos] as const)
      const events = chunk.map((r): BundleEvent => {
        let tx = txIndex.get(r.tx_id)
        if (tx === undefined) {
          tx = transactions.length
          txIndex.set(r.tx_id, tx)
          transactions.push({ worktree: r.worktree, head: r.head, actor: r.actor, at: r.committed_at })
        }
        const ifVersion = r.if_version === 1
        return {
          id: r.id,
          pos: r.pos,
          tx,
          clock: r.clock,
          kind: r.entity_kind,
          entity: r.entity_id,
          op: r.op,
          payload: r.payload,
          payloadVersion: r.payload_version,
          cause: r.cause_id,
          ifVersion,
          frontier: indexed(portableFrontier(r.frontier_id)),
          seen: !ifVersion ? null : indexed(r.seen_frontier_id === null ? heldBefore(r.seq) : portableFrontier(r.seen_frontier_id)),
          digest: r.digest
        }
      })
      out.push({
        format: 1,
        replica: stream.replica,
        branch: stream.branch,
        from: chunk[0]!.pos,
        to: chunk[chunk.length - 1]!.pos,
        streams: streamList,
        transactions,
        events
      })
    }
    return out
  }

  return { streams, bundles }
}

export type Exporter = ReturnType<typeof makeExporter>
