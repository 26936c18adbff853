import * as SqlClient from "@effect/sql/SqlClient"
import { Context, Effect, Either, Layer } from "effect"
import type { GitFailed, NotARepository } from "../git/Git.ts"
import { insertRows } from "../storage/batch.ts"
import { type DatabaseBusy, type DatabaseError, orDatabaseError, trySqlite } from "../storage/errors.ts"
import { Sqlite } from "../storage/Sqlite.ts"
import { type EventDraft, payloadVersion, readStoredPayload, type StoredEvent } from "./Event.ts"
import { GitContext } from "./GitContext.ts"
import { nextStamps, wallTimeOf } from "./hlc.ts"
import { chainDigests, chainHead } from "./chain.ts"
import { ensureLocalStream, localReplicaName, nextPos } from "./streams.ts"

/** Appends drafts inside the current write transaction and returns them as stored. */
export type Append = (drafts: ReadonlyArray<EventDraft>) => Effect.Effect<ReadonlyArray<StoredEvent>, DatabaseBusy | DatabaseError>

/** An event with its git context, as `events list` shows it. */
export interface EventView {
  readonly seq: number
  readonly id: string
  readonly stream: string
  readonly worktree: string
  readonly head: string | null
  readonly actor: string
  readonly clock: number
  readonly time: string
  readonly entityKind: string
  readonly entityId: string
  readonly op: string
  readonly payload: unknown
  readonly payloadVersion: number
  readonly causeId: string | null
}

export interface EventFilter {
  readonly stream?: string | undefined
  readonly entity?: string | undefined
  readonly limit?: number | undefined
}

export type WriteError = DatabaseBusy | DatabaseError | NotARepository | GitFailed

const eventColumns = [
  "seq",
  "id",
  "tx_id",
  "stream_id",
  "clock",
  "entity_kind",
  "entity_id",
  "op",
  "payload",
  "payload_version",
  "cause_id",
  "frontier_id",
  "if_version",
  "pos",
  "digest"
] as const

/** The append-only log: write transactions stamped with their git context, and reads. */
export class EventStore extends Context.Tag("grove/EventStore")<EventStore, {
  /**
   * Runs `body` in one BEGIN IMMEDIATE transaction. The git context is resolved
   * before the lock and persisted once, on the first append, however many
   * events the transaction appends. A failure rolls everything back.
   */
  readonly transact: <A, E, R>(body: (append: Append) => Effect.Effect<A, E, R>) => Effect.Effect<A, E | WriteError, R>
  readonly list: (filter: EventFilter) => Effect.Effect<ReadonlyArray<EventView>, DatabaseError | DatabaseBusy>
}>() {
  static readonly layer = Layer.effect(
    EventStore,
    Effect.gen(function*() {
      const { db } = yield* Sqlite
      const sql = yield* SqlClient.SqlClient
      const gitContext = yield* GitContext

      const transact = <A, E, R>(body: (append: Append) => Effect.Effect<A, E, R>) =>
        Effect.gen(function*() {
          const context = yield* gitContext.resolve
          let opened:
            | { readonly txId: number; readonly streamId: number; readonly frontierId: number | null; readonly at: number; readonly replica: string; last: number; pos: number; digest: string | null }
            | undefined
          const open = () => {
            const streamId = ensureLocalStream(db, context.stream)
            const at = Date.now()
            const txId = (db.query(
              "INSERT INTO transactions (stream_id, worktree, head, actor, committed_at) VALUES (?, ?, ?, ?, ?) RETURNING id"
            ).get(streamId, context.worktree, context.head, context.actor, at) as { id: number }).id
            const last = (db.query("SELECT last FROM hlc").get() as { last: number }).last
            // The causal context: what this stream had pulled when it wrote (frontiers change only at pulls).
            const knowledge = db.query("SELECT frontier_id FROM stream_knowledge WHERE stream_id = ?").get(streamId) as
              | { frontier_id: number }
              | null
            return {
              txId,
              streamId,
              frontierId: knowledge?.frontier_id ?? null,
              at,
              replica: localReplicaName(db),
              last,
              pos: nextPos(db, streamId),
              digest: chainHead(db, streamId)
            }
          }
          const append: Append = (drafts) =>
            trySqlite(() => {
              if (drafts.length === 0) return []
              const tx = opened ??= open()
              const stamps = nextStamps(tx.last, Date.now(), drafts.length)
              const base = (db.query("SELECT coalesce(max(seq), 0) AS seq FROM events").get() as { seq: number }).seq
              const stored = drafts.map((d, i): StoredEvent => ({
                ...d,
                seq: base + i + 1,
                clock: stamps.first + i,
                streamId: tx.streamId,
                frontierId: tx.frontierId
              }))
              const payloads = stored.map((e) => JSON.stringify(e.payload))
              const digests = chainDigests(tx.digest, stored.map((e, i) => ({
                id: e.id,
                replica: tx.replica,
                branch: context.stream,
                pos: tx.pos + i,
                clock: e.clock,
                entityKind: e.entityKind,
                entityId: e.entityId,
                op: e.op,
                payload: payloads[i]!,
                payloadVersion,
                causeId: e.causeId,
                ifVersion: e.ifVersion,
                worktree: context.worktree,
                head: context.head,
                actor: context.actor,
                at: tx.at
              })))
              insertRows(
                db,
                "events",
                eventColumns,
                stored.map((e, i) => [
                  e.seq,
                  e.id,
                  tx.txId,
                  e.streamId,
                  e.clock,
                  e.entityKind,
                  e.entityId,
                  e.op,
                  payloads[i],
                  payloadVersion,
                  e.causeId,
                  tx.frontierId,
                  e.ifVersion ? 1 : 0,
                  tx.pos + i,
                  digests[i]
                ])
              )
              tx.pos += stored.length
              tx.digest = digests.at(-1)!
              db.run("UPDATE hlc SET last = ?", [stamps.last])
              tx.last = stamps.last
              return stored
            })
          return yield* orDatabaseError(sql.withTransaction(Effect.suspend(() => body(append))))
        })

      const list = (filter: EventFilter) =>
        trySqlite(() => {
          const where: Array<string> = []
          const params: Array<string | number> = []
          if (filter.stream !== undefined) where.push("s.name = ?"), params.push(filter.stream)
          if (filter.entity !== undefined) where.push("e.entity_id = ?"), params.push(filter.entity)
          params.push(filter.limit ?? 50)
          const rows = db.query(
            `SELECT e.seq, e.id, s.name AS stream, t.worktree, t.head, t.actor, e.clock, e.entity_kind AS entityKind,
                    e.entity_id AS entityId, e.op, e.payload, e.payload_version AS payloadVersion, e.cause_id AS causeId
             FROM events e JOIN transactions t ON t.id = e.tx_id JOIN streams s ON s.id = e.stream_id
             ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
             ORDER BY e.seq DESC LIMIT ?`
          ).all(...params) as Array<Omit<EventView, "time" | "payload"> & { payload: string }>
          return rows.reverse().map((r) => ({
            ...r,
            // A row written behind grove's back may not parse: it is shown, not fatal.
            payload: Either.getOrElse(readStoredPayload(r.op, r.payload), (u) => ({ unreadable: u.reason, raw: r.payload })),
            time: new Date(wallTimeOf(r.clock)).toISOString()
          }))
        })

      return { transact, list }
    })
  )
}
