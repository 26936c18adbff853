import { Context, Effect, Either, Layer, Schema } from "effect"
import { formatParseError } from "../events/operations.ts"
import { draft, edgeId, type EventDraft, type NodeRef, Title } from "../events/Event.ts"
import { newEntityId } from "../events/ids.ts"
import { GroveError } from "../errors/index.ts"
import { suggest } from "../errors/suggest.ts"
import { Queries } from "../projections/Queries.ts"
import { EdgeSet } from "../graph/Graph.ts"
import { DependencySourceDone } from "../graph/rules.ts"
import { type Emit, Writer } from "../write/Writer.ts"
import { oversized } from "./limits.ts"

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

/** Bulk lines are flat objects: deeper nesting is refused before parsing, as it could exhaust the stack. */
export const maxNesting = 32

/** How deep arrays and objects nest in JSON text (brackets inside strings do not count), stopping past `limit`. */
const nestingOf = (text: string, limit: number) => {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length && deepest <= limit; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++ // backslash: skip the escaped character
      else if (c === 34) inString = false
    } else if (c === 34) inString = true
    else if (c === 91 || c === 123) deepest = Math.max(deepest, ++depth)
    else if (c === 93 || c === 125) depth--
  }
  return deepest
}

/** Splits JSON lines (blank lines skipped, numbering kept); invalid JSON names its line. */
export const parseJsonLines = (text: string): Either.Either<ReadonlyArray<BulkLine>, BulkInputInvalid> => {
  const out: Array<BulkLine> = []
  const lines = text.split("\n")
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim()
    if (raw === "") continue
    if (nestingOf(raw, maxNesting) > maxNesting) return Either.left(invalid(i + 1, `JSON nested deeper than ${maxNesting} levels`))
    try {
      out.push({ line: i + 1, value: JSON.parse(raw) })
    } catch (e) {
      return Either.left(invalid(i + 1, `invalid JSON (${e instanceof Error ? e.message : String(e)})`))
    }
  }
  return Either.right(out)
}

/**
 * What is wrong with a line before its Schema runs, in user words: not an
 * object, an unknown key (never silently dropped), or a field over its size limit.
 */
const lineProblem = (value: unknown, allowed: ReadonlyArray<string>): string | undefined => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return `expected a JSON object like {${allowed.map((k) => `"${k}": ...`).join(", ")}}`
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const guess = suggest(key, allowed)
      return `unknown key "${key}"${guess ? ` (did you mean "${guess}"?)` : ""}; allowed keys: ${allowed.join(", ")}`
    }
  }
  return oversized(value as Record<string, string>)?.message
}

const decodeAll = <F extends Schema.Struct.Fields>(schema: Schema.Struct<F>, lines: ReadonlyArray<BulkLine>) =>
  Effect.suspend(() => {
    type A = Schema.Struct.Type<F>
    const decode = Schema.decodeUnknownEither(schema as unknown as Schema.Schema<A>)
    const allowed = Object.keys(schema.fields)
    const out: Array<A & { readonly line: number }> = []
    for (const l of lines) {
      const problem = lineProblem(l.value, allowed)
      if (problem !== undefined) return Effect.fail(invalid(l.line, problem))
      const r = decode(l.value)
      if (Either.isLeft(r)) return Effect.fail(invalid(l.line, formatParseError(r.left)))
      out.push({ ...(r.right as object), line: l.line } as A & { readonly line: number })
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
      return makeBulk(yield* Writer, yield* Queries)
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

const makeBulk = ({ write }: typeof Writer.Service, queries: typeof Queries.Service) => {
  const createMany = (
    kind: "task" | "subtask",
    defaultParent: string | undefined,
    lines: ReadonlyArray<BulkLine>,
    onProgress?: (written: number) => void
  ) =>
    write((emit) =>
      Effect.gen(function*() {
        const items = yield* decodeAll(ItemLine, lines)
        const parentKind = kind === "task" ? "epic" : "task"
        const parents = new Set<string>()
        for (const item of items) {
          const parent = item.parent ?? defaultParent
          if (parent === undefined) return yield* invalid(item.line, `no ${parentKind} given (use --${parentKind} or "parent")`)
          parents.add(parent)
        }
        const found = yield* queries.existing(kind === "task" ? "epic" : "task", [...parents])
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
    write((emit) =>
      Effect.gen(function*() {
        const edges = yield* decodeAll(EdgeLine, lines)
        const ids = [...new Set(edges.flatMap((e) => [e.source, e.target]))]
        const tasks = yield* queries.statuses("task", ids)
        const subtasks = yield* queries.statuses("subtask", ids)
        const nodeOf = (id: string): NodeRef | undefined =>
          tasks.has(id) ? { kind: "task", id } : subtasks.has(id) ? { kind: "subtask", id } : undefined
        const statusOf = (id: string) => tasks.get(id) ?? subtasks.get(id)
        const graph = new EdgeSet(yield* queries.allDependencies())
        const drafts: Array<EventDraft> = []
        // Edges already in the graph are skipped and reported, so re-running a plan script succeeds.
        const skipped: Array<{ readonly line: number; readonly source: string; readonly target: string }> = []
        for (const e of edges) {
          const source = nodeOf(e.source)
          const target = nodeOf(e.target)
          if (source === undefined) return yield* invalid(e.line, `unknown task or subtask ${e.source}`)
          if (target === undefined) return yield* invalid(e.line, `unknown task or subtask ${e.target}`)
          if (e.source === e.target) return yield* invalid(e.line, `${e.source} cannot depend on itself`)
          if (graph.has(source, target)) {
            skipped.push({ line: e.line, source: e.source, target: e.target })
            continue
          }
          if (graph.reaches(e.target, e.source)) return yield* invalid(e.line, `${e.source} -> ${e.target} would form a cycle`)
          // "Done means dependencies done", as for dep add; there is no --force here: reopening is one edge's decision.
          const targetStatus = statusOf(e.target)!
          if (statusOf(e.source) === "done" && targetStatus !== "done") {
            return yield* new DependencySourceDone({
              message: `line ${e.line}: ${e.source} is done and ${e.target} is not: a done ${source.kind} cannot wait for anything (grove dep add ${e.source} ${e.target} --force reopens it); the whole batch was rejected, nothing was written`,
              details: { line: e.line, source, target, targetStatus }
            })
          }
          graph.add(source, target)
          drafts.push(draft("dependency.added", { kind: "dependency", id: edgeId(source, target) }, { source, target }))
        }
        yield* emitInSteps(emit, drafts, onProgress)
        return { added: drafts.length, ...(skipped.length > 0 ? { skipped } : {}) }
      })
    )

  return { createMany, addDependencies }
}
