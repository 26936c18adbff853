import type { Database } from "bun:sqlite"
import { Context, Effect, Layer } from "effect"
import type { NodeKind, NodeRef } from "../events/Event.ts"
import type { Operation, PayloadOf } from "../events/operations.ts"
import { wallTimeOf } from "../events/hlc.ts"
import { insertRows } from "../storage/batch.ts"
import { trySqlite } from "../storage/errors.ts"
import { Sqlite } from "../storage/Sqlite.ts"
import { tableOf } from "./tables.ts"

/** What the projector needs of an event: which write it is and when. */
export type ProjectableEvent<Op extends Operation = Operation> = {
  [O in Op]: {
    readonly id: string
    readonly op: O
    readonly entityKind: string
    readonly entityId: string
    readonly payload: PayloadOf<O>
    readonly clock: number
  }
}[Op]


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

/** The row a creation (or a restore) inserts, per kind of entity. */
const rows = {
  epic: {
    table: "epics",
    columns: ["id", "title", "description", "status", "version", "created_clock", "updated_clock"],
    row: (e: ProjectableEvent, p: Record<string, unknown>) => [e.entityId, p["title"], p["description"], p["status"], 1, e.clock, e.clock]
  },
  task: workItem("tasks", "epic_id", "epic"),
  subtask: workItem("subtasks", "task_id", "task")
} as const

/** Field names a set-fields payload may carry; they equal their column names. */
const settable = new Set(["title", "description", "status", "owner"])

const setFields = (db: Database, table: string, e: ProjectableEvent, payload: object = e.payload) => {
  const fields = Object.keys(payload).filter((k) => settable.has(k))
  const values = fields.map((k) => (payload as Record<string, unknown>)[k] ?? null)
  db.query(
    `UPDATE ${table} SET ${fields.map((f) => `${f} = ?, `).join("")}version = version + 1, updated_clock = ? WHERE id = ?`
  ).run(...(values as Array<never>), e.clock as never, e.entityId as never)
  // A lease belongs to one claim: it ends when the owner changes or the work leaves in_progress.
  const p = payload as { owner?: unknown; status?: unknown }
  if ("owner" in p || (p.status !== undefined && p.status !== "in_progress")) dropLease(db, e.entityId)
}

const dropLease = (db: Database, entityId: string) => db.query("DELETE FROM leases WHERE entity_id = ?").run(entityId)

const setLease = (db: Database, e: ProjectableEvent<"task.leased" | "subtask.leased">) =>
  db.query("INSERT OR REPLACE INTO leases (entity_id, owner, lease_ms, expires_at) VALUES (?, ?, ?, ?)")
    .run(e.entityId, e.payload.owner, e.payload.lease, wallTimeOf(e.clock) + e.payload.lease)

const addNote = (db: Database, e: ProjectableEvent<"task.noted" | "subtask.noted">) =>
  db.query("INSERT INTO notes (id, entity_kind, entity_id, author, text, clock) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
    .run(e.id, e.entityKind, e.entityId, e.payload.author, e.payload.text, e.clock)

const addEdge = (db: Database, source: NodeRef, target: NodeRef, clock: number) =>
  db.query(
    `INSERT INTO dependencies (source_kind, source_id, target_kind, target_id, created_clock) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT DO NOTHING`
  ).run(source.kind, source.id, target.kind, target.id, clock)

const removeEdge = (db: Database, source: NodeRef, target: NodeRef) =>
  db.query("DELETE FROM dependencies WHERE source_kind = ? AND source_id = ? AND target_kind = ? AND target_id = ?")
    .run(source.kind, source.id, target.kind, target.id)

const deleteRow = (db: Database, kind: NodeKind | "epic", id: string) => db.query(`DELETE FROM ${tableOf[kind]} WHERE id = ?`).run(id)

/** A settlement: one field set, an edge's presence, or an entity deleted or restored whole. */
const applyResolution = (db: Database, e: ProjectableEvent<"conflict.resolved">) => {
  const p = e.payload
  if (e.entityKind === "dependency") {
    const { source, target } = p.restored as { source: NodeRef; target: NodeRef }
    if (p.value === true) addEdge(db, source, target, e.clock)
    else removeEdge(db, source, target)
    return
  }
  const kind = e.entityKind as NodeKind | "epic"
  if (p.field !== "existence") return setFields(db, tableOf[kind], e, { [p.field]: p.value })
  deleteRow(db, kind, e.entityId)
  if (p.value !== true) return
  // A restored entity is its creation row with the restored values, the version the payload carries and its original creation time.
  const spec = rows[kind]
  const row = spec.row({ ...e, clock: p.createdClock ?? e.clock }, p.restored ?? {})
  row[spec.columns.indexOf("version")] = p.version ?? 1
  row[spec.columns.indexOf("updated_clock")] = e.clock
  insertRows(db, spec.table, spec.columns, [row])
}

/** How a run of consecutive events of one operation changes the live tables. */
type Materializer<Op extends Operation> = (db: Database, run: ReadonlyArray<ProjectableEvent<Op>>) => void

const created = (kind: NodeKind | "epic"): Materializer<Operation> => (db, run) =>
  insertRows(db, rows[kind].table, rows[kind].columns, run.map((e) => rows[kind].row(e, e.payload as Record<string, unknown>)))
const updated = (kind: NodeKind | "epic"): Materializer<Operation> => (db, run) => {
  for (const e of run) setFields(db, tableOf[kind], e)
}
const removed = (kind: NodeKind | "epic"): Materializer<Operation> => (db, run) => {
  for (const e of run) {
    deleteRow(db, kind, e.entityId)
    dropLease(db, e.entityId)
  }
}

/**
 * One materializer per operation: adding an operation to the table in
 * src/events/operations.ts without one here fails the type check.
 */
const materializers: { readonly [Op in Operation]: Materializer<Op> } = {
  "epic.created": created("epic"),
  "epic.updated": updated("epic"),
  "epic.deleted": removed("epic"),
  "task.created": created("task"),
  "task.updated": updated("task"),
  "task.claimed": updated("task"),
  "task.deleted": removed("task"),
  "subtask.created": created("subtask"),
  "subtask.updated": updated("subtask"),
  "subtask.claimed": updated("subtask"),
  "subtask.deleted": removed("subtask"),
  "task.leased": (db, run) => {
    for (const e of run) setLease(db, e)
  },
  "subtask.leased": (db, run) => {
    for (const e of run) setLease(db, e)
  },
  "task.noted": (db, run) => {
    for (const e of run) addNote(db, e)
  },
  "subtask.noted": (db, run) => {
    for (const e of run) addNote(db, e)
  },
  "epic.planned": (db, run) => {
    const insert = db.query("INSERT INTO plan_keys (plan, key, entity_kind, entity_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")
    for (const e of run) for (const [key, ref] of Object.entries(e.payload.keys)) insert.run(e.payload.plan, key, ref.kind, ref.id)
  },
  "dependency.added": (db, run) => {
    for (const e of run) addEdge(db, e.payload.source, e.payload.target, e.clock)
  },
  "dependency.removed": (db, run) => {
    for (const e of run) removeEdge(db, e.payload.source, e.payload.target)
  },
  "conflict.resolved": (db, run) => {
    for (const e of run) applyResolution(db, e)
  },
  // Knowledge changes sync state only (src/causality), never the live tables.
  "stream.learnt": () => {}
}

/**
 * Applies events to the projection tables of `db`, in order. Each run of
 * consecutive events of one operation goes to its materializer at once, so a
 * bulk create costs a few multi-row statements per hundred rows. Pure function
 * of the events: rebuild and verify replay with this same code.
 */
export const applyEvents = (db: Database, events: ReadonlyArray<ProjectableEvent>): void => {
  let i = 0
  while (i < events.length) {
    const op = events[i]!.op
    let j = i + 1
    while (j < events.length && events[j]!.op === op) j++
    ;(materializers[op] as Materializer<Operation>)(db, events.slice(i, j))
    i = j
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
