import type { Database } from "bun:sqlite"
import { localReplica, localReplicaName } from "../events/streams.ts"
import { makeConflictStore } from "../causality/ConflictStore.ts"
import { makeHeadsStore } from "../causality/HeadsStore.ts"
import { makeInvariantStore } from "../causality/InvariantStore.ts"
import { makeKnowledge } from "../causality/Knowledge.ts"
import { handOverKey } from "./Signing.ts"

export interface Renewal {
  readonly previous: string
  readonly replica: string
  /** This database's branches, each continued by a new stream of the new replica. */
  readonly streams: ReadonlyArray<{ readonly branch: string; readonly events: number }>
}

/**
 * Gives this database a new replica id (a copied database must not publish
 * under its original's name). What was written so far stays where it is, as
 * the old replica's streams, exactly as if it had been imported from the
 * original: the append-only log is not touched, and both copies agree on it.
 * Each branch continues on a new stream of the new replica that knows
 * everything the old one knew (its frontier plus the old stream's events),
 * with the old stream's causally maximal writes and --if-version floors, and
 * its pending conflicts. The copied signing key becomes the old replica's
 * pinned key; this database creates its own at its next push. Runs inside the
 * caller's write transaction.
 */
export const renewReplicaId = (db: Database): Renewal => {
  const previous = localReplicaName(db)
  const replica = Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString("hex")
  const knowledge = makeKnowledge(db)
  const heads = makeHeadsStore(db, knowledge)
  const conflicts = makeConflictStore(db)
  const invariants = makeInvariantStore(db)
  handOverKey(db, previous)
  db.query("UPDATE replicas SET name = ? WHERE id = ?").run(replica, localReplica)
  const old = (db.query("INSERT INTO replicas (name) VALUES (?) RETURNING id").get(previous) as { id: number }).id
  const streams = db.query(
    `SELECT s.id, s.branch, (SELECT coalesce(max(seq), 0) FROM events WHERE stream_id = s.id) AS last,
            (SELECT count(*) FROM events WHERE stream_id = s.id) AS events
     FROM streams s WHERE s.replica_id = ?`
  ).all(localReplica) as Array<{ id: number; branch: string; last: number; events: number }>
  for (const s of streams) {
    db.query("UPDATE streams SET replica_id = ?, name = ? WHERE id = ?").run(old, `${s.branch}@${previous}`, s.id)
    const next = (db.query("INSERT INTO streams (replica_id, branch, name) VALUES (?, ?, ?) RETURNING id").get(localReplica, s.branch, s.branch) as {
      id: number
    }).id
    knowledge.advance(next, s.last === 0 ? knowledge.current(s.id) : { ...knowledge.current(s.id), [s.id]: s.last })
    heads.copyStream(s.id, next)
    conflicts.movePending(s.id, next)
    invariants.movePending(s.id, next)
  }
  return { previous, replica, streams: streams.map((s) => ({ branch: s.branch, events: s.events })) }
}
