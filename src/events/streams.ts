import type { Database } from "bun:sqlite"

/**
 * Streams: the branches events are written on, each of one replica (a grove
 * database; row 1 of `replicas` is this one). A stream's `name` is unique in
 * the database: the branch for this replica's streams, `branch@replica` for
 * streams imported from other clones.
 */
export const localReplica = 1

/** This database's replica id, as it names its refs on remotes. */
export const localReplicaName = (db: Database): string =>
  (db.query("SELECT name FROM replicas WHERE id = ?").get(localReplica) as { name: string }).name

/** This replica's stream for a branch, if grove has written or pulled on it. */
export const localStreamId = (db: Database, branch: string): number | undefined =>
  (db.query("SELECT id FROM streams WHERE replica_id = ? AND branch = ?").get(localReplica, branch) as { id: number } | null)?.id

export const ensureStream = (db: Database, replicaId: number, branch: string, name: string): number =>
  (db.query("SELECT id FROM streams WHERE replica_id = ? AND branch = ?").get(replicaId, branch) as { id: number } | null)?.id ??
    (db.query("INSERT INTO streams (replica_id, branch, name) VALUES (?, ?, ?) RETURNING id").get(replicaId, branch, name) as { id: number }).id

export const ensureLocalStream = (db: Database, branch: string): number => ensureStream(db, localReplica, branch, branch)

/** Every stream of a branch, this replica's and imported ones: what `--from <branch>` names. */
export const streamsOfBranch = (db: Database, branch: string): Array<number> =>
  (db.query("SELECT id FROM streams WHERE branch = ? ORDER BY id").all(branch) as Array<{ id: number }>).map((r) => r.id)

export const streamName = (db: Database, id: number): string =>
  (db.query("SELECT name FROM streams WHERE id = ?").get(id) as { name: string } | null)?.name ?? `#${id}`


/** The replica a stream belongs to. */
export const replicaOf = (db: Database, streamId: number): number =>
  (db.query("SELECT replica_id FROM streams WHERE id = ?").get(streamId) as { replica_id: number }).replica_id

/** Whether a stream is this replica's, cached per stream: for walks over many events. */
export const isLocalStream = (db: Database): ((streamId: number) => boolean) => {
  const known = new Map<number, boolean>()
  return (streamId) => {
    let local = known.get(streamId)
    if (local === undefined) known.set(streamId, local = replicaOf(db, streamId) === localReplica)
    return local
  }
}
