import type { EntityKind, Operation } from "./Event.ts"

/**
 * Which fields an event writes, and with what value: the unit sync compares.
 * docs/sync.md has the table this implements.
 */

export const entityFields: Readonly<Record<EntityKind, ReadonlyArray<string>>> = {
  epic: ["description", "existence", "status", "title"],
  task: ["description", "epic", "existence", "owner", "status", "title"],
  subtask: ["description", "existence", "owner", "status", "task", "title"],
  dependency: ["presence"]
}

/** The value a delete writes to every field: distinct from every JSON text. */
export const deleted = "⊥"

/** A field write; the value is JSON text, or `deleted`. */
export interface Write {
  readonly field: string
  readonly value: string
}

export interface WritingEvent {
  readonly op: Operation | string
  readonly entityKind: EntityKind | string
  readonly payload: unknown
}

export const isCreation = (op: string) => op.endsWith(".created")

const valuesOf = (payload: unknown, skip: ReadonlySet<string>): Array<Write> =>
  Object.entries(payload as Record<string, unknown>)
    .filter(([k]) => !skip.has(k))
    .map(([field, value]) => ({ field, value: JSON.stringify(value ?? null) }))

const none = new Set<string>()

/** Operations that set no field: notes append, leases and plans annotate; concurrent ones never conflict. */
export const writesNoField = (op: string) => op.endsWith(".noted") || op.endsWith(".leased") || op === "epic.planned"

/** The fields `event` writes, in alphabetical order. */
export const writesOf = (event: WritingEvent): ReadonlyArray<Write> => {
  const fields = entityFields[event.entityKind as EntityKind] ?? []
  const op = event.op
  const payload = event.payload as Record<string, unknown>
  let writes: Array<Write>
  if (writesNoField(op)) return []
  if (isCreation(op)) writes = [{ field: "existence", value: "true" }, ...valuesOf(payload, none)]
  else if (op.endsWith(".deleted")) writes = fields.map((field) => ({ field, value: field === "existence" ? "false" : deleted }))
  else if (op === "dependency.added") writes = [{ field: "presence", value: "true" }]
  else if (op === "dependency.removed") writes = [{ field: "presence", value: "false" }]
  else if (op === "conflict.resolved") {
    const field = payload["field"] as string
    const value = payload["value"]
    if (field !== "existence") writes = [{ field, value: JSON.stringify(value ?? null) }]
    else if (value === true) {
      const restored = (payload["restored"] ?? {}) as Record<string, unknown>
      writes = [
        { field: "existence", value: "true" },
        ...fields.filter((f) => f !== "existence").map((f) => ({ field: f, value: JSON.stringify(restored[f] ?? null) }))
      ]
    }
    else writes = fields.map((f) => ({ field: f, value: f === "existence" ? "false" : deleted }))
  } else writes = valuesOf(payload, none)
  return writes.sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0))
}
