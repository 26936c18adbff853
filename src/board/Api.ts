import { Effect, Schema } from "effect"
import type { BoardServices } from "./Server.ts"
import { withTracker } from "../app/AppLayer.ts"
import { Status } from "../events/Event.ts"
import { EventStore } from "../events/EventStore.ts"
import { GitContext } from "../events/GitContext.ts"
import { InvalidInput, NotFound } from "../errors/index.ts"
import { Repository } from "../git/Repository.ts"
import { Queries, type Subtask, type Task } from "../projections/Queries.ts"
import type { DatabaseBusy, DatabaseError } from "../storage/errors.ts"
import { Sqlite } from "../storage/Sqlite.ts"
import { Conflicts } from "../sync/Conflicts.ts"
import { InvariantConflicts } from "../sync/InvariantConflicts.ts"
import { parseConflictId, resolveConflicts, sideChoice } from "../sync/resolve.ts"
import { Work } from "../projections/Work.ts"
import { Claims } from "../tracker/Claims.ts"
import { addNote } from "../tracker/Notes.ts"
import { Tracker } from "../tracker/Tracker.ts"
import { latestEvents } from "./Activity.ts"
import { epicGraph } from "./Graph.ts"
import { jsonText } from "./Http.ts"
import { worktrees } from "./Worktrees.ts"

/** An endpoint: method, path pattern (`:name` segments), the body Schema for writes, and its handler (data, or a ready Response). */
export type Endpoint = {
  readonly method: "GET" | "POST"
  readonly path: string
  readonly body?: Schema.Schema<any, any>
  readonly handle: (input: { readonly params: Record<string, string>; readonly query: URLSearchParams; readonly body: any }) => Effect.Effect<unknown, unknown, BoardServices>
}

const kindOf = (id: string) =>
  id.startsWith("e-") ? "epic" as const : id.startsWith("t-") ? "task" as const : id.startsWith("s-") ? "subtask" as const : undefined

const entityKind = (id: string) => {
  const kind = kindOf(id)
  return kind === undefined
    ? Effect.fail(new NotFound({ message: `no epic, task or subtask with id ${id}`, details: { id } }))
    : Effect.succeed(kind)
}

/** Claims, releases and notes are for tasks and subtasks. */
const workKind = (id: string) =>
  Effect.flatMap(entityKind(id), (kind) =>
    kind === "epic"
      ? Effect.fail(new InvalidInput({ message: `${id} is an epic: only tasks and subtasks are claimed, released or noted`, details: { id } }))
      : Effect.succeed(kind))

const positiveInt = (query: URLSearchParams, name: string, fallback: number, max: number) => {
  const raw = query.get(name)
  if (raw === null) return Effect.succeed(fallback)
  return /^\d+$/.test(raw) && Number(raw) >= 1 && Number(raw) <= max
    ? Effect.succeed(Number(raw))
    : Effect.fail(new InvalidInput({ message: `${name} must be an integer from 1 to ${max}, got ${JSON.stringify(raw)}`, details: { parameter: name } }))
}

/** The page sends the version it showed: a write against a newer version is refused (version_mismatch). */
const IfVersion = Schema.Int.pipe(Schema.greaterThanOrEqualTo(1))

/** Who and where the board writes as: the same resolution as every CLI command in this worktree. */
const whoAmI = Effect.map(GitContext, (c) => c.resolve).pipe(Effect.flatten)

/** Writes open their services fresh, as a CLI command would, so HEAD and branch are read at the time of the write. */
const write = (cwd: string) => withTracker(cwd)

const taskDetail = (id: string) =>
  Effect.gen(function*() {
    const kind = yield* entityKind(id)
    const queries = yield* Queries
    const entity = kind === "epic" ? yield* queries.epic(id) : kind === "task" ? yield* queries.task(id) : yield* queries.subtask(id)
    if (entity === undefined) return yield* new NotFound({ message: `no ${kind} with id ${id}`, details: { kind, id } })
    const children = kind === "epic" ? yield* queries.tasks({ epic: id }) : kind === "task" ? yield* queries.subtasks(id) : []
    const edges = kind === "epic" ? { dependsOn: [], dependedOnBy: [] } : yield* queries.dependencies({ kind, id })
    const describe = (ref: { kind: "task" | "subtask"; id: string }) =>
      Effect.map(
        (ref.kind === "task" ? queries.task(ref.id) : queries.subtask(ref.id)) as Effect.Effect<Task | Subtask | undefined, DatabaseError | DatabaseBusy>,
        (e: Task | Subtask | undefined) => ({ id: ref.id, kind: ref.kind, title: e?.title ?? null, status: e?.status ?? null })
      )
    const history = yield* (yield* EventStore).list({ entity: id, limit: 1000 })
    const notes = kind === "epic" ? [] : yield* (yield* Work).notes(id)
    return {
      entity,
      children,
      dependsOn: yield* Effect.forEach(edges.dependsOn, (d) => describe(d.target)),
      dependedOnBy: yield* Effect.forEach(edges.dependedOnBy, (d) => describe(d.source)),
      notes,
      history
    }
  })

/** Pending conflicts of every scope, each with the events behind its sides; `mine` marks the board's own scope. */
const conflictsView = (cwd: string) =>
  // As resolve sees this scope, read fresh: the branch may have moved since the board started.
  write(cwd)(Effect.gen(function*() {
    const fields = yield* Conflicts
    // Invariant conflicts (cycles, orphans) too, with their choices, as `sync conflicts list/show` give them.
    const invariants = yield* InvariantConflicts
    const mine = new Set<number | string>([...(yield* fields.list()).map((c) => c.id), ...(yield* invariants.list()).map((c) => c.id)])
    const all = [...(yield* fields.pendingEverywhere(1000)), ...(yield* invariants.pendingEverywhere(1000))]
    return all.map((c) => ({ ...c, mine: mine.has(c.id) }))
  }))

/** The endpoints; `boardJson` gives the board's snapshot as JSON text (Snapshot.ts `snapshotCache`). */
export const endpoints = (cwd: string, boardJson: () => string): ReadonlyArray<Endpoint> => [
  {
    method: "GET",
    path: "/api/board",
    // The snapshot's text comes from the cache; only who the board writes as is added around it.
    handle: () => Effect.map(whoAmI, (me) => jsonText(`{"ok":true,"data":{"me":${JSON.stringify(me)},${boardJson().slice(1)}}`))
  },
  { method: "GET", path: "/api/entities/:id", handle: ({ params }) => taskDetail(params["id"]!) },
  {
    method: "GET",
    path: "/api/graph/:epic",
    handle: ({ params }) =>
      Effect.gen(function*() {
        const graph = epicGraph((yield* Sqlite).db, params["epic"]!)
        if (graph.epic === null) return yield* new NotFound({ message: `no epic with id ${params["epic"]}`, details: { kind: "epic", id: params["epic"] } })
        return graph
      })
  },
  {
    method: "GET",
    path: "/api/worktrees",
    handle: () =>
      Effect.gen(function*() {
        const repository = yield* (yield* Repository).paths
        return yield* worktrees((yield* Sqlite).db, cwd, repository.worktree)
      })
  },
  { method: "GET", path: "/api/conflicts", handle: () => conflictsView(cwd) },
  {
    method: "GET",
    path: "/api/events",
    handle: ({ query }) => Effect.flatMap(positiveInt(query, "limit", 100, 1000), (limit) => Effect.map(Sqlite, ({ db }) => latestEvents(db, limit)))
  },
  {
    method: "POST",
    path: "/api/entities/:id/status",
    body: Schema.Struct({ status: Status, ifVersion: IfVersion }),
    handle: ({ params, body }) =>
      Effect.flatMap(entityKind(params["id"]!), (kind) =>
        // `done` is what `task done` does (the claim's owner finishes; from todo too); other statuses are an update.
        body.status === "done" && kind !== "epic"
          ? write(cwd)(Effect.flatMap(Claims, (c) => c.finish(kind, params["id"]!, { ifVersion: body.ifVersion })))
          : write(cwd)(Effect.flatMap(Tracker, (t) => t.update(kind, params["id"]!, { status: body.status }, body.ifVersion))))
  },
  {
    method: "POST",
    path: "/api/entities/:id/claim",
    body: Schema.Struct({ ifVersion: IfVersion }),
    handle: ({ params, body }) =>
      Effect.flatMap(workKind(params["id"]!), (kind) =>
        write(cwd)(Effect.flatMap(Claims, (c) => c.claim(kind, params["id"]!, { ifVersion: body.ifVersion }))))
  },
  {
    method: "POST",
    path: "/api/entities/:id/release",
    // Release has no version check in the service (`task release` has no --if-version): only the owner may release.
    body: Schema.Record({ key: Schema.String, value: Schema.Never }), // an empty object: no field is accepted
    handle: ({ params }) =>
      Effect.flatMap(workKind(params["id"]!), (kind) => write(cwd)(Effect.flatMap(Claims, (c) => c.release(kind, params["id"]!, {}))))
  },
  {
    method: "POST",
    path: "/api/entities/:id/notes",
    body: Schema.Struct({ text: Schema.String }),
    handle: ({ params, body }) => Effect.flatMap(workKind(params["id"]!), (kind) => write(cwd)(addNote(kind, params["id"]!, body.text, {})))
  },
  {
    method: "POST",
    path: "/api/conflicts/:id/resolve",
    body: Schema.Struct({
      /** A field conflict's side (ours, theirs, a side's number) or one of an invariant conflict's choices. */
      use: Schema.Union(Schema.Int.pipe(Schema.positive()), Schema.String),
      dryRun: Schema.Boolean,
      /** The field conflicts the preview showed: anything else matching now refuses the write (expect_mismatch). */
      expect: Schema.optional(Schema.Array(Schema.Int))
    }),
    // The CLI's and MCP's resolve (src/sync/resolve.ts): a number names a field conflict, i<N> an invariant one.
    handle: ({ params, body }) =>
      Effect.flatMap(parseConflictId(params["id"]!), (id) =>
        write(cwd)(
          id.kind === "invariant"
            ? resolveConflicts({ id: params["id"]! }, body.use, body.dryRun)
            : Effect.flatMap(sideChoice(body.use), (side) => Effect.flatMap(Conflicts, (c) => c.resolve({ id: id.id, expect: body.expect }, side, body.dryRun)))
        ))
  }
]

/** Finds the endpoint for a method and path, with its `:name` parameters. */
export const route = (table: ReadonlyArray<Endpoint>, method: string, pathname: string) => {
  let parts: Array<string>
  try {
    parts = pathname.split("/").map(decodeURIComponent)
  } catch {
    return undefined // a malformed %-escape names no resource
  }
  for (const endpoint of table) {
    if (endpoint.method !== method) continue
    const pattern = endpoint.path.split("/")
    if (pattern.length !== parts.length) continue
    const params: Record<string, string> = {}
    if (pattern.every((p, i) => (p.startsWith(":") ? ((params[p.slice(1)] = parts[i]!), parts[i] !== "") : p === parts[i]))) {
      return { endpoint, params }
    }
  }
  return undefined
}
