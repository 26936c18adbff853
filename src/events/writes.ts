import type { EntityKind } from "./Event.ts"

/**
 * Which fields an event writes, and with what value: the unit sync compares.
 * Each operation picks one of the shapes below in src/events/operations.ts;
 * docs/sync.md has the table they implement.
 */

export const entityFields: Readonly<Record<EntityKind, ReadonlyArray<string>>> = {
  epic: ["description", "existence", "status", "title"],
  task: ["description", "epic", "existence", "owner", "status", "title"],
  subtask: ["description", "existence", "owner", "status", "task", "title"],
  dependency: ["presence"],
  stream: []
}

/** The value a delete writes to every field: distinct from every JSON text. */
export const deleted = "⊥"

/** A field write; the value is JSON text, or `deleted`. */
export interface Write {
  readonly field: string
  readonly value: string
}

export const isCreation = (op: string) => op.endsWith(".created")

const json = (value: unknown) => JSON.stringify(value ?? null)

/** Every field the payload carries, with its value. */
export const setsFields = (payload: object): Array<Write> =>
  Object.entries(payload).map(([field, value]) => ({ field, value: json(value) }))

/** A creation brings the entity into existence and sets every field it carries. */
export const creates = (payload: object): Array<Write> => [{ field: "existence", value: "true" }, ...setsFields(payload)]

/** A delete writes ⊥ to every field of its kind and false to existence. */
export const deletes = (kind: EntityKind): Array<Write> =>
  entityFields[kind].map((field) => ({ field, value: field === "existence" ? "false" : deleted }))

/** An edge's only field is its presence. */
export const presence = (present: boolean): Array<Write> => [{ field: "presence", value: String(present) }]

/**
 * A settlement writes the chosen value to its field; settling existence true
 * writes back every restored field, settling it false writes a delete.
 */
export const settles = (
  payload: { readonly field: string; readonly value: unknown; readonly restored?: Readonly<Record<string, unknown>> | undefined },
  kind: EntityKind
): Array<Write> => {
  if (payload.field !== "existence") return [{ field: payload.field, value: json(payload.value) }]
  if (payload.value !== true) return deletes(kind)
  const restored = payload.restored ?? {}
  return [
    { field: "existence", value: "true" },
    ...entityFields[kind].filter((f) => f !== "existence").map((field) => ({ field, value: json(restored[field]) }))
  ]
}

export const byField = (a: Write, b: Write) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0)
