import type { Database } from "bun:sqlite"
import { wallTimeOf } from "../events/hlc.ts"

/** One line of the Activity view and of a live update: an event with where and by whom it was written. */
export type ActivityEvent = {
  readonly seq: number
  readonly op: string
  readonly entityKind: string
  readonly entityId: string
  readonly actor: string
  readonly worktree: string
  readonly branch: string
  readonly head: string | null
  readonly time: string
}

const select = `SELECT e.seq, e.op, e.entity_kind AS entityKind, e.entity_id AS entityId, t.actor, t.worktree, s.name AS branch, t.head, e.clock
  FROM events e JOIN transactions t ON t.id = e.tx_id JOIN streams s ON s.id = e.stream_id`

const view = (rows: Array<Omit<ActivityEvent, "time"> & { clock: number }>): Array<ActivityEvent> =>
  rows.map(({ clock, ...r }) => ({ ...r, time: new Date(wallTimeOf(clock)).toISOString() }))

/** The newest `limit` events, newest first. */
export const latestEvents = (db: Database, limit: number) => view(db.query(`${select} ORDER BY e.seq DESC LIMIT ?`).all(limit) as never)

/** Events after `seq`, oldest first, at most `limit` (a live update, or a reconnect's catch-up). */
export const eventsAfter = (db: Database, seq: number, limit: number) =>
  view(db.query(`${select} WHERE e.seq > ? ORDER BY e.seq LIMIT ?`).all(seq, limit) as never)
