import { Effect, Either, Schema } from "effect"
import { draft, edgeId, type EventDraft, type NodeRef, Title } from "../events/Event.ts"
import { formatParseError } from "../events/operations.ts"
import { Writer } from "../write/Writer.ts"
import { newEntityId } from "../events/ids.ts"
import { GroveError } from "../errors/index.ts"
import { Queries } from "../projections/Queries.ts"
import { trySqlite } from "../storage/errors.ts"
import { Sqlite } from "../storage/Sqlite.ts"
import { Tracker } from "./Tracker.ts"

export class PlanInvalid extends GroveError("PlanInvalid", "plan_invalid") {}

const Key = Schema.String.pipe(Schema.minLength(1, { message: () => "a key must not be empty" }))
/** Absent or present: JSON has no `undefined`, and an error inside a list then names the list's item, not the list. */
const optional = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })
const Item = { key: Key, title: Title, description: optional(Schema.String) }
const PlanSubtask = Schema.Struct({ ...Item, owner: optional(Schema.NullOr(Schema.String)), dependsOn: optional(Schema.Array(Key)) })
const PlanTask = Schema.Struct({
  ...Item,
  owner: optional(Schema.NullOr(Schema.String)),
  dependsOn: optional(Schema.Array(Key)),
  subtasks: optional(Schema.Array(PlanSubtask))
})

/** The JSON document shape of `grove plan apply` (docs/agents.md has an example). */
export const PlanDocument = Schema.Struct({
  plan: optional(Key),
  epic: Schema.Struct(Item),
  tasks: optional(Schema.Array(PlanTask))
})
export type PlanDocument = typeof PlanDocument.Type

/** The JSON-lines shape: one record per line, tasks and subtasks naming their parent by key. */
const PlanLine = Schema.Union(
  Schema.Struct({ type: Schema.Literal("plan"), plan: Key }),
  Schema.Struct({ type: Schema.Literal("epic"), ...Item }),
  Schema.Struct({ type: Schema.Literal("task"), ...PlanTask.fields, subtasks: Schema.optional(Schema.Never) }),
  Schema.Struct({ type: Schema.Literal("subtask"), task: Key, ...PlanSubtask.fields }),
  Schema.Struct({ type: Schema.Literal("dependency"), source: Key, target: Key })
)

const invalid = (path: string, reason: string) =>
  new PlanInvalid({ message: `invalid plan at ${path}: ${reason}; nothing was written`, details: { path, reason } })

const decode = <A, I>(schema: Schema.Schema<A, I>, value: unknown, path: string) =>
  Either.mapLeft(Schema.decodeUnknownEither(schema, { onExcessProperty: "error" })(value), (e) => invalid(path, formatParseError(e)))

/** Reads a plan: one JSON document, or JSON lines (each line one record). */
export const parsePlan = (text: string): Either.Either<PlanDocument, PlanInvalid> => {
  const trimmed = text.trim()
  try {
    return decode(PlanDocument, JSON.parse(trimmed), "document")
  } catch {
    // Not one JSON value: JSON lines.
  }
  let plan: string | undefined
  let epic: PlanDocument["epic"] | undefined
  const tasks: Array<Omit<typeof PlanTask.Type, "dependsOn" | "subtasks"> & { dependsOn: Array<string>; subtasks: Array<typeof PlanSubtask.Type> }> = []
  const extra: Array<{ source: string; target: string }> = []
  const lines = trimmed.split("\n")
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === "") continue
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (e) {
      return Either.left(invalid(`line ${i + 1}`, `not JSON (${e instanceof Error ? e.message : String(e)})`))
    }
    const record = decode(PlanLine, value, `line ${i + 1}`)
    if (Either.isLeft(record)) return Either.left(record.left)
    const r = record.right
    if (r.type === "plan") plan = r.plan
    else if (r.type === "epic") {
      if (epic !== undefined) return Either.left(invalid(`line ${i + 1}`, "a plan has one epic"))
      const { type: _, ...rest } = r
      epic = rest
    } else if (r.type === "task") {
      const { type: _, subtasks: __, ...rest } = r
      tasks.push({ ...rest, dependsOn: [...(r.dependsOn ?? [])], subtasks: [] })
    } else if (r.type === "subtask") {
      const parent = tasks.find((t) => t.key === r.task)
      if (parent === undefined) return Either.left(invalid(`line ${i + 1}`, `subtask ${r.key} names task ${r.task}, which no earlier line defines`))
      const { type: _, task: __, ...rest } = r
      parent.subtasks.push(rest)
    } else extra.push({ source: r.source, target: r.target })
  }
  if (epic === undefined) return Either.left(invalid("document", "no epic line"))
  // A dependency line is the same as a dependsOn entry of its source.
  for (const e of extra) {
    const owner = tasks.find((t) => t.key === e.source) ?? tasks.flatMap((t) => t.subtasks).find((s) => s.key === e.source)
    if (owner === undefined) return Either.left(invalid(`dependency ${e.source} -> ${e.target}`, `unknown key ${e.source}`))
    ;(owner as { dependsOn?: ReadonlyArray<string> }).dependsOn = [...(owner.dependsOn ?? []), e.target]
  }
  return Either.right({ ...(plan === undefined ? {} : { plan }), epic, tasks })
}

type Ref = { readonly kind: "epic" | "task" | "subtask"; readonly id: string }

/**
 * Applies a plan in one write transaction. Keys already applied under the
 * same plan name map to the entities they created (the `epic.planned`
 * events, projected into plan_keys), so applying the same plan again changes
 * nothing, and an edited plan adds only its new items and edges. Existing
 * items are not updated.
 */
export const applyPlan = (plan: PlanDocument) =>
  Effect.gen(function*() {
    const tracker = yield* Tracker
    const queries = yield* Queries
    const { db } = yield* Sqlite
    const name = plan.plan ?? plan.epic.key
    const tasks = plan.tasks ?? []
    const subtasks = tasks.flatMap((t) => (t.subtasks ?? []).map((s) => ({ ...s, task: t.key })))
    const keys = [plan.epic.key, ...tasks.map((t) => t.key), ...subtasks.map((s) => s.key)]
    const seen = new Set<string>()
    for (const k of keys) {
      if (seen.has(k)) return yield* invalid(`key ${k}`, "used twice")
      seen.add(k)
    }
    const edges = [...tasks, ...subtasks].flatMap((n) => (n.dependsOn ?? []).map((target) => ({ source: n.key, target })))
    for (const e of edges) {
      if (!seen.has(e.target)) return yield* invalid(`${e.source}.dependsOn`, `unknown key ${e.target}`)
      if (e.target === plan.epic.key) return yield* invalid(`${e.source}.dependsOn`, `${e.target} is the epic; only tasks and subtasks can be depended on`)
    }

    return yield* (yield* Writer).write((emit) =>
      Effect.gen(function*() {
        const applied = new Map(
          (yield* trySqlite(() => db.query("SELECT key, entity_kind AS kind, entity_id AS id FROM plan_keys WHERE plan = ?").all(name) as Array<Ref & { key: string }>))
            .map((r) => [r.key, { kind: r.kind, id: r.id } as Ref])
        )
        const fresh: Record<string, Ref> = {}
        const refOf = (key: string) => applied.get(key) ?? fresh[key]!
        const creations: Array<EventDraft> = []
        const missing: Array<string> = []
        const exists = (ref: Ref) =>
          tracker.find(ref.kind, ref.id).pipe(Effect.as(true), Effect.catchTag("NotFound", () => Effect.succeed(false)))
        for (const k of keys) {
          const ref = applied.get(k)
          if (ref !== undefined && !(yield* exists(ref))) missing.push(k)
        }
        if (missing.length > 0) {
          return yield* invalid(`keys ${missing.join(", ")}`, `applied before under plan ${name}, but deleted since; give the plan another name to create them again`)
        }
        if (!applied.has(plan.epic.key)) {
          const id = newEntityId("epic")
          fresh[plan.epic.key] = { kind: "epic", id }
          creations.push(draft("epic.created", { kind: "epic", id }, { title: plan.epic.title, description: plan.epic.description ?? "", status: "todo" }))
        }
        for (const t of tasks) {
          if (applied.has(t.key)) continue
          const id = newEntityId("task")
          fresh[t.key] = { kind: "task", id }
          creations.push(draft("task.created", { kind: "task", id }, {
            epic: refOf(plan.epic.key).id,
            title: t.title,
            description: t.description ?? "",
            status: "todo",
            owner: t.owner ?? null
          }))
        }
        for (const s of subtasks) {
          if (applied.has(s.key)) continue
          const id = newEntityId("subtask")
          fresh[s.key] = { kind: "subtask", id }
          creations.push(draft("subtask.created", { kind: "subtask", id }, {
            task: refOf(s.task).id,
            title: s.title,
            description: s.description ?? "",
            status: "todo",
            owner: s.owner ?? null
          }))
        }
        yield* emit(creations)
        let added = 0
        for (const e of edges) {
          const source = refOf(e.source) as NodeRef
          const target = refOf(e.target) as NodeRef
          if (yield* queries.edgeExists(source, target)) continue
          if (yield* queries.reaches(target, source)) return yield* invalid(`${e.source}.dependsOn`, `${e.source} -> ${e.target} would form a cycle`)
          yield* emit([draft("dependency.added", { kind: "dependency", id: edgeId(source, target) }, { source, target })])
          added++
        }
        if (Object.keys(fresh).length > 0) yield* emit([draft("epic.planned", { kind: "epic", id: refOf(plan.epic.key).id }, { plan: name, keys: fresh })])
        const count = (kind: Ref["kind"]) => Object.values(fresh).filter((r) => r.kind === kind).length
        return {
          plan: name,
          epic: refOf(plan.epic.key).id,
          changed: creations.length + added > 0,
          created: { epics: count("epic"), tasks: count("task"), subtasks: count("subtask"), dependencies: added },
          keys: Object.fromEntries(keys.map((k) => [k, refOf(k).id]))
        }
      })
    )
  })
