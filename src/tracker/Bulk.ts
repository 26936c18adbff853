import { Context, Effect, Either, Layer, Schema } from "effect"
import { formatParseError } from "../events/operations.ts"
import { draft, edgeId, type EventDraft, type NodeRef, Title } from "../events/Event.ts"
import { newEntityId } from "../events/ids.ts"
import { GroveError } from "../errors/index.ts"
import { Queries } from "../projections/Queries.ts"
import type { Emit } from "../write/Writer.ts"
import { Tracker } from "./Tracker.ts"

export class BulkInputInvalid extends GroveError("BulkInputInvalid", "bulk_input_invalid") {}

/** One input of a bulk command: its 1-based line (or flag position) and raw value. */
export interface BulkLine {
  readonly line: number
  readonly value: unknown
}

/** A line of `task create-many` / `subtask create-many`; `parent` overrides --epic / --task. */
export const ItemLine = Schema.Struct({
  title: Title,
  description: Schema.optional(Schema.String),
  owner: Schema.optional(Schema.NullOr(Schema.String)),
  parent: Schema.optional(Schema.String)
})
export type ItemLine = typeof ItemLine.Type

/** A line of `dep add-many`: source depends on target. */
export const EdgeLine = Schema.Struct({ source: Schema.String, target: Schema.String })
export type EdgeLine = typeof EdgeLine.Type

const invalid = (line: number, reason: string) =>
  new BulkInputInvalid({ message: `line ${line}: ${reason}; the whole batch was rejected, nothing was written`, details: { line, reason } })

/** Splits JSON lines (blank lines skipped, numbering kept); invalid JSON names its line. */
export const parseJsonLines = (text: string): Either.Either<ReadonlyArray<BulkLine>, BulkInputInvalid> => {
  const out: Array<BulkLine> = []
  const lines = text.split("\n")
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim()
    if (raw === "") continue
    try {
      out.push({ line: i + 1, value: JSON.parse(raw) })
    } catch (e) {
      return Either.left(invalid(i + 1, `invalid JSON (${e instanceof Error ? e.message : String(e)})`))
    }
  }
  return Either.right(out)
}

const decodeAll = <A, I>(schema: Schema.Schema<A, I>, lines: ReadonlyArray<BulkLine>) =>
  Effect.suspend(() => {
    const decode = Schema.decodeUnknownEither(schema)
    const out: Array<A & { readonly line: number }> = []
    for (const l of lines) {
      const r = decode(l.value)
      if (Either.isLeft(r)) return Effect.fail(invalid(l.line, formatParseError(r.left)))
      out.push({ ...r.right, line: l.line })
    }
    return Effect.succeed(out)
  })

/**
 * Bulk creates: all-or-nothing in one transaction, one event per entity, and
 * multi-row statements throughout (validation reads parents with one query per
 * 500 ids; events and projection rows go in 100-row inserts).
 */
export class Bulk extends Context.Tag("grove/Bulk")<Bulk, ReturnType<typeof makeBulk>>() {
  static readonly layer = Layer.effect(
    Bulk,
    Effect.gen(function*() {
      return makeBulk(yield* Tracker, yield* Queries)
    })
  )
}

/** Appends in steps of 10,000 inside the one transaction, so a terminal can show progress; still all or nothing. */
const emitInSteps = (emit: Emit, drafts: ReadonlyArray<EventDraft>, onProgress?: (written: number) => void) =>
  Effect.gen(function*() {
    for (let i = 0; i < drafts.length; i += 10_000) {
      yield* emit(drafts.slice(i, i + 10_000))
      onProgress?.(Math.min(i + 10_000, drafts.length))
    }
  })

const makeBulk = (tracker: typeof Tracker.Service, queries: typeof Queries.Service) => {
  const createMany = (
    kind: "task" | "subtask",
    defaultParent: string | undefined,
    lines: ReadonlyArray<BulkLine>,
    onProgress?: (written: number) => void
  ) =>
    tracker.write((emit) =>
      Effect.gen(function*() {
        const items = yield* decodeAll(ItemLine, lines)
        const parentKind = kind === "task" ? "epic" : "task"
        const parents = new Set<string>()
        for (const item of items) {
          const parent = item.parent ?? defaultParent
          if (parent === undefined) return yield* invalid(item.line, `no ${parentKind} given (use --${parentKind} or "parent")`)
          parents.add(parent)
        }
        const found = yield* queries.existing(kind === "task" ? "epics" : "tasks", [...parents])
        const drafts: Array<EventDraft> = []
        const ids: Array<string> = []
        for (const item of items) {
          const parent = (item.parent ?? defaultParent)!
          if (!found.has(parent)) return yield* invalid(item.line, `unknown ${parentKind} ${parent}`)
          const id = newEntityId(kind)
          ids.push(id)
          const fields = { title: item.title, description: item.description ?? "", status: "todo" as const, owner: item.owner ?? null }
          drafts.push(kind === "task" ? draft("task.created", { kind, id }, { epic: parent, ...fields }) : draft("subtask.created", { kind, id }, { task: parent, ...fields }))
        }
        yield* emitInSteps(emit, drafts, onProgress)
        return { created: ids.length, ids }
      })
    )

  const addDependencies = (lines: ReadonlyArray<BulkLine>, onProgress?: (written: number) => void) =>
    tracker.write((emit) =>
      Effect.gen(function*() {
        const edges = yield* decodeAll(EdgeLine, lines)
        const ids = [...new Set(edges.flatMap((e) => [e.source, e.target]))]
        const tasks = yield* queries.existing("tasks", ids)
        const subtasks = yield* queries.existing("subtasks", ids)
        const nodeOf = (id: string): NodeRef | undefined =>
          tasks.has(id) ? { kind: "task", id } : subtasks.has(id) ? { kind: "subtask", id } : undefined
        // The whole graph in memory: cycle checks for thousands of new edges without a query per edge.
        const adjacency = new Map<string, Array<string>>()
        const link = (from: string, to: string) => adjacency.set(from, [...(adjacency.get(from) ?? []), to])
        const present = new Set<string>()
        for (const d of yield* queries.allDependencies()) {
          link(d.source.id, d.target.id)
          present.add(edgeId(d.source, d.target))
        }
        const reaches = (from: string, to: string) => {
          const seen = new Set<string>([from])
          const stack = [from]
          while (stack.length > 0) {
            const at = stack.pop()!
            if (at === to) return true
            for (const next of adjacency.get(at) ?? []) if (!seen.has(next)) seen.add(next), stack.push(next)
          }
          return false
        }
        const drafts: Array<EventDraft> = []
        for (const e of edges) {
          const source = nodeOf(e.source)
          const target = nodeOf(e.target)
          if (source === undefined) return yield* invalid(e.line, `unknown task or subtask ${e.source}`)
          if (target === undefined) return yield* invalid(e.line, `unknown task or subtask ${e.target}`)
          if (e.source === e.target) return yield* invalid(e.line, `${e.source} cannot depend on itself`)
          const id = edgeId(source, target)
          if (present.has(id)) return yield* invalid(e.line, `${e.source} already depends on ${e.target}`)
          if (reaches(e.target, e.source)) return yield* invalid(e.line, `${e.source} -> ${e.target} would form a cycle`)
          link(e.source, e.target)
          present.add(id)
          drafts.push(draft("dependency.added", { kind: "dependency", id }, { source, target }))
        }
        yield* emitInSteps(emit, drafts, onProgress)
        return { added: drafts.length }
      })
    )

  return { createMany, addDependencies }
}
