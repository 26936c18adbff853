import type { Database } from "bun:sqlite"
import { Context, Effect, Layer } from "effect"
import type { EventDraft, NodeRef, Operation, PayloadOf } from "../events/Event.ts"
import { wallTimeOf } from "../events/hlc.ts"
import { insertRows } from "../storage/batch.ts"
import { trySqlite } from "../storage/errors.ts"
import { Sqlite } from "../storage/Sqlite.ts"

/** What the projector needs of an event: which write it is and when. */
export type ProjectableEvent = Pick<EventDraft, "id" | "op" | "entityKind" | "entityId" | "payload"> & { readonly clock: number }

/** The projection tables, in dependency-free order, with the key that orders their rows. */
export const projectionTables = [
  { name: "epics", key: "id" },
  { name: "tasks", key: "id" },
  { name: "subtasks", key: "id" },
  { name: "dependencies", key: "source_kind, source_id, target_kind, target_id" },
  { name: "leases", key: "entity_id" },
  { name: "notes", key: "id" },
  { name: "plan_keys", key: "plan, key" },
  // Kept by triggers on the tables above (migration 4): the rows search matches, and their FTS5 index.
  { name: "search_rows", key: "entity_id, source" },
  { name: "search", key: "title, body" }
] as const

const tableOf = { epic: "epics", task: "tasks", subtask: "subtasks" } as const

/** A row of a work-item table (tasks, subtasks): the parent column differs, the rest is shared. */
const workItem = (table: "tasks" | "subtasks", parentColumn: "epic_id" | "task_id", parentField: "epic" | "task") => ({
  table,
  columns: ["id", parentColumn, "title", "description", "status", "owner", "version", "created_clock", "updated_clock"],
  row: (e: ProjectableEvent, p: Record<string, unknown>) => [
    e.entityId,
    p[parentField],
    p["title"],
    p["description"],
    p["status"],
    p["owner"] ?? null,
    1,
    e.clock,
    e.clock
  ]
})

const creates = {
  "epic.created": {
    table: "epics",
    columns: ["id", "title", "description", "status", "version", "created_clock", "updated_clock"],
    row: (e: ProjectableEvent, p: Record<string, unknown>) => [e.entityId, p["title"], p["description"], p["status"], 1, e.clock, e.clock]
  },
  "task.created": workItem("tasks", "epic_id", "epic"),
  "subtask.created": workItem("subtasks", "task_id", "task")
} as const

type CreateOp = keyof typeof creates
const isCreate = (op: Operation): op is CreateOp => op in creates

/** Field names a set-fields payload may carry; they equal their column names. */
const settable = new Set(["title", "description", "status", "owner"])

const setFields = (db: Database, table: string, e: ProjectableEvent, payload: Record<string, unknown> = e.payload) => {
  const fields = Object.keys(payload).filter((k) => settable.has(k))
  const values = fields.map((k) => payload[k] ?? null)
  db.query(
    `UPDATE ${table} SET ${fields.map((f) => `${f} = ?, `).join("")}version = version + 1, updated_clock = ? WHERE id = ?`
  ).run(...(values as Array<never>), e.clock as never, e.entityId as never)
  // A lease belongs to one claim: it ends when the owner changes or the work leaves in_progress.
  if ("owner" in payload || (payload["status"] !== undefined && payload["status"] !== "in_progress")) dropLease(db, e.entityId)
}

const dropLease = (db: Database, entityId: string) => db.query("DELETE FROM leases WHERE entity_id = ?").run(entityId)

const addEdge = (db: Database, source: NodeRef, target: NodeRef, clock: number) =>
  db.query(
    `INSERT INTO dependencies (source_kind, source_id, target_kind, target_id, created_clock) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT DO NOTHING`
  ).run(source.kind, source.id, target.kind, target.id, clock)

const removeEdge = (db: Database, source: NodeRef, target: NodeRef) =>
  db.query("DELETE FROM dependencies WHERE source_kind = ? AND source_id = ? AND target_kind = ? AND target_id = ?")
    .run(source.kind, source.id, target.kind, target.id)

/** A settlement: one field set, an edge's presence, or an entity deleted or restored whole. */
const applyResolution = (db: Database, e: ProjectableEvent, p: PayloadOf<"conflict.resolved">) => {
  if (e.entityKind === "dependency") {
    const { source, target } = p.restored as { source: NodeRef; target: NodeRef }
    if (p.value === true) addEdge(db, source, target, e.clock)
    else removeEdge(db, source, target)
    return
  }
  const table = tableOf[e.entityKind as keyof typeof tableOf]
  if (p.field !== "existence") return setFields(db, table, e, { [p.field]: p.value })
  db.query(`DELETE FROM ${table} WHERE id = ?`).run(e.entityId)
  if (p.value !== true) return
  // A restored entity is its creation row with the restored values, the version the payload carries and its original creation time.
  const spec = creates[`${e.entityKind as "epic" | "task" | "subtask"}.created`]
  const row = spec.row({ ...e, clock: p.createdClock ?? e.clock }, p.restored ?? {})
  row[spec.columns.indexOf("version")] = p.version ?? 1
  row[spec.columns.indexOf("updated_clock")] = e.clock
  insertRows(db, table, spec.columns, [row])
}

/**
 * Applies events to the projection tables of `db`, in order. Runs of creates of
 * one kind become multi-row inserts, so a bulk create costs a few statements
 * per hundred rows. Pure function of the events: rebuild and verify replay
 * with this same code.
 */
export const applyEvents = (db: Database, events: ReadonlyArray<ProjectableEvent>): void => {
  let i = 0
  while (i < events.length) {
    const e = events[i]!
    if (isCreate(e.op)) {
      const spec = creates[e.op]
      let j = i
      while (j < events.length && events[j]!.op === e.op) j++
      insertRows(db, spec.table, spec.columns, events.slice(i, j).map((x) => spec.row(x, x.payload as never)))
      i = j
      continue
    }
    switch (e.op) {
      case "epic.updated":
      case "task.updated":
      case "task.claimed":
      case "subtask.updated":
      case "subtask.claimed":
        setFields(db, tableOf[e.op.slice(0, e.op.indexOf(".")) as keyof typeof tableOf], e)
        break
      case "epic.deleted":
      case "task.deleted":
      case "subtask.deleted":
        db.query(`DELETE FROM ${tableOf[e.op.slice(0, e.op.indexOf(".")) as keyof typeof tableOf]} WHERE id = ?`).run(e.entityId)
        dropLease(db, e.entityId)
        break
      case "task.leased":
      case "subtask.leased": {
        const { owner, lease } = e.payload as PayloadOf<"task.leased">
        db.query("INSERT OR REPLACE INTO leases (entity_id, owner, lease_ms, expires_at) VALUES (?, ?, ?, ?)")
          .run(e.entityId, owner, lease, wallTimeOf(e.clock) + lease)
        break
      }
      case "task.noted":
      case "subtask.noted":
      {
        const { text, author } = e.payload as PayloadOf<"task.noted">
        db.query("INSERT INTO notes (id, entity_kind, entity_id, author, text, clock) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
          .run(e.id, e.entityKind, e.entityId, author, text, e.clock)
      }
        break
      case "epic.planned": {
        const { plan, keys } = e.payload as PayloadOf<"epic.planned">
        const insert = db.query("INSERT INTO plan_keys (plan, key, entity_kind, entity_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")
        for (const [key, ref] of Object.entries(keys)) insert.run(plan, key, ref.kind, ref.id)
        break
      }
      case "dependency.added": {
        const { source, target } = e.payload as PayloadOf<"dependency.added">
        addEdge(db, source, target, e.clock)
        break
      }
      case "dependency.removed": {
        const { source, target } = e.payload as PayloadOf<"dependency.removed">
        removeEdge(db, source, target)
        break
      }
      case "conflict.resolved":
        applyResolution(db, e, e.payload as PayloadOf<"conflict.resolved">)
        break
    }
    i++
  }
}

/** Keeps the live projection tables in step with the log, in the same transaction as the events. */
export class Projector extends Context.Tag("grove/Projector")<Projector, {
  readonly apply: (events: ReadonlyArray<ProjectableEvent>) => ReturnType<typeof trySqlite<void>>
}>() {
  static readonly layer = Layer.effect(
    Projector,
    Effect.map(Sqlite, ({ db }) => ({ apply: (events: ReadonlyArray<ProjectableEvent>) => trySqlite(() => applyEvents(db, events)) }))
  )
}
