import { Effect, type Layer, Schema } from "effect"
import { Status, Title } from "../events/Event.ts"
import { Queries } from "../projections/Queries.ts"
import type { trackerLayer } from "../app/AppLayer.ts"
import { Sync } from "../sync/Sync.ts"
import { parseDuration } from "../tracker/Acting.ts"
import { Claims } from "../tracker/Claims.ts"
import { Next } from "../tracker/Next.ts"
import { addNote } from "../tracker/Notes.ts"
import { applyPlan, PlanDocument } from "../tracker/Plan.ts"
import { session } from "../app/Session.ts"
import { Tracker } from "../tracker/Tracker.ts"
import { listConflicts, resolveConflicts, showConflict } from "../sync/resolve.ts"
import { showEntity } from "../projections/Detail.ts"
import { epicProgress, finishWork } from "../tracker/Views.ts"

/**
 * The MCP tools: the agent loop, each one a call into the same services and
 * answers (src/tracker/Views.ts) the CLI uses. A tool's input is an Effect
 * Schema built from the domain's own Schemas (Status, Title, PlanDocument);
 * the server decodes arguments with it and publishes it as JSON Schema.
 */

/** Every service a tool may use: what the CLI's tracker commands get. */
export type ToolServices = Layer.Layer.Success<ReturnType<typeof trackerLayer>>

export interface Tool {
  readonly name: string
  readonly description: string
  readonly input: Schema.Schema<any, any>
  /** Whether a call can write events (the server then announces a change). */
  readonly writes: boolean
  readonly run: (input: any) => Effect.Effect<unknown, unknown, ToolServices>
}

const tool = <F extends Schema.Struct.Fields>(
  name: string,
  description: string,
  writes: boolean,
  fields: F,
  run: (input: Schema.Struct.Type<F>) => Effect.Effect<unknown, unknown, ToolServices>
): Tool => ({ name, description, writes, input: Schema.Struct(fields) as unknown as Schema.Schema<any, any>, run })

const described = <S extends Schema.Schema.Any>(schema: S, description: string) => schema.annotations({ description }) as S
const optional = <S extends Schema.Schema.All>(schema: S, description: string) => Schema.optional(schema.annotations({ description }))

const Id = described(Schema.String.pipe(Schema.minLength(1)), "the entity's id")
const Version = Schema.Int.pipe(Schema.nonNegative())
/** A field conflict's number, or an invariant conflict's `iN`. */
const conflictId = Schema.Union(Schema.Int, Schema.String.pipe(Schema.pattern(/^i[1-9]\d*$/)))
const WorkKind = optional(Schema.Literal("task", "subtask"), "task (default) or subtask")
const owner = optional(Schema.String, "who acts (default: GROVE_ACTOR, else this MCP client's name, else git user.email)")
const lease = optional(Schema.String, "lease length (30m, 90s, 2h, 500ms): after it passes without a write by the owner, others may take the claim over")
const ifVersion = optional(Version, "refuse (version_mismatch) unless the entity is still at this version")
const force = optional(Schema.Boolean, "act although another owner holds the claim")
const from = optional(Schema.String, "the source branch (default: origin/HEAD, else init.defaultBranch, else main or master)")

const leaseMs = (text: string | undefined) => (text === undefined ? Effect.succeed(undefined) : parseDuration(text))
/** An empty owner clears it, as `--owner ""` does. */
const ownerField = (value: string | undefined) => (value === "" ? null : value)

export const tools: ReadonlyArray<Tool> = [
  tool(
    "session",
    "Orientation in one call: this worktree, branch and actor, my claims, task counts, pending conflicts, how far behind the default source, and what every other worktree is doing.",
    false,
    { owner },
    (i) => session({ owner: i.owner })
  ),
  tool(
    "next",
    "The best task for this agent: its own in-progress task first, else the ready task that unblocks the most work. With claim: true it is claimed in the same transaction that picks it (of racing agents exactly one gets it).",
    true,
    { epic: optional(Schema.String, "only this epic's tasks"), owner, claim: optional(Schema.Boolean, "claim the task atomically"), lease },
    (i) =>
      Effect.flatMap(leaseMs(i.lease), (lease) =>
        Effect.flatMap(Next, (n) => n.next({ epic: i.epic, owner: i.owner, claim: i.claim, lease })))
  ),
  tool(
    "task_show",
    "A task (or subtask, or epic) with its children, dependencies, lease and notes.",
    false,
    { id: Id, kind: optional(Schema.Literal("epic", "task", "subtask"), "task (default), subtask or epic") },
    (i) => showEntity(i.kind ?? "task", i.id)
  ),
  tool(
    "task_create",
    "Create a task under an epic (or a subtask under a task).",
    true,
    {
      parent: described(Schema.String, "the epic of a task, the task of a subtask"),
      title: described(Title, "the title"),
      description: optional(Schema.String, "free text"),
      owner: optional(Schema.String, "owner"),
      kind: WorkKind
    },
    (i) =>
      Effect.flatMap(Tracker, (t) =>
        t.create(i.kind ?? "task", i.parent, { title: i.title, description: i.description, owner: ownerField(i.owner) }))
  ),
  tool(
    "task_update",
    "Change a task's fields; only changed fields are written. ifVersion refuses with version_mismatch when someone changed it since you read it.",
    true,
    {
      id: Id,
      kind: WorkKind,
      title: optional(Title, "new title"),
      description: optional(Schema.String, "free text"),
      status: optional(Status, "new status"),
      owner: optional(Schema.String, "owner (an empty string clears it)"),
      ifVersion
    },
    (i) =>
      Effect.flatMap(Tracker, (t) =>
        t.update(i.kind ?? "task", i.id, { title: i.title, description: i.description, status: i.status, owner: ownerField(i.owner) }, i.ifVersion))
  ),
  tool(
    "task_note",
    "Append a note to a task or subtask (append-only; concurrent notes on several branches never conflict).",
    true,
    { id: Id, kind: WorkKind, text: described(Schema.String, "the note"), owner },
    (i) => addNote(i.kind ?? "task", i.id, i.text, { owner: i.owner })
  ),
  tool(
    "task_claim",
    "Atomically claim a task or subtask: of racing claimers exactly one wins, the others get claim_lost with the owner. An expired lease can be taken over.",
    true,
    { id: Id, kind: WorkKind, owner, lease, ifVersion },
    (i) =>
      Effect.flatMap(leaseMs(i.lease), (lease) =>
        Effect.flatMap(Claims, (c) => c.claim(i.kind ?? "task", i.id, { owner: i.owner, lease, ifVersion: i.ifVersion })))
  ),
  tool(
    "task_release",
    "Give a claimed task back: todo again, no owner. Only its owner, or anyone with force.",
    true,
    { id: Id, kind: WorkKind, owner, force },
    (i) => Effect.flatMap(Claims, (c) => c.release(i.kind ?? "task", i.id, { owner: i.owner, force: i.force }))
  ),
  tool(
    "task_done",
    "Mark a task done once its dependencies are done (a claimed one only by its owner, or with force). Returns what it unblocked and the next candidate.",
    true,
    { id: Id, kind: WorkKind, owner, force, ifVersion },
    (i) => finishWork(i.kind ?? "task", i.id, { owner: i.owner, force: i.force, ifVersion: i.ifVersion })
  ),
  tool(
    "plan_apply",
    "Create an epic with its tasks, subtasks and dependencies, addressed by temporary keys, in one transaction. Re-running changes nothing; an edited plan adds what is new.",
    true,
    { plan: described(PlanDocument, "the plan document (docs/agents.md)") },
    (i) => applyPlan(i.plan)
  ),
  tool(
    "ready",
    "Tasks in todo whose dependencies are all done.",
    false,
    { epic: optional(Schema.String, "only this epic's tasks") },
    (i) => Effect.flatMap(Queries, (q) => q.readyTasks(i.epic))
  ),
  tool(
    "dep_add",
    "source depends on target: source cannot start or finish until target is done.",
    true,
    { source: described(Schema.String, "the task or subtask that waits"), target: described(Schema.String, "the task or subtask it waits for") },
    (i) => Effect.flatMap(Tracker, (t) => t.addDependency(i.source, i.target))
  ),
  tool(
    "epic_progress",
    "Counts per status, ready and waiting tasks, and the next candidate of an epic.",
    false,
    { id: Id },
    (i) => epicProgress(i.id)
  ),
  tool(
    "sync_status",
    "How this branch's knowledge compares with a source branch, and its pending conflicts.",
    false,
    { from },
    (i) => Effect.flatMap(Sync, (s) => s.status(i.from))
  ),
  tool(
    "sync_pull",
    "Learn what the source branch knows and record the conflicts that creates; never changes the live state.",
    true,
    { from },
    (i) => Effect.flatMap(Sync, (s) => s.pull(i.from))
  ),
  tool(
    "conflicts_list",
    "This worktree and branch's pending conflicts (all: settled ones too): field conflicts (kind field, numeric id) and invariant ones (kind invariant, id iN: a dependency cycle or an orphan).",
    false,
    { all: optional(Schema.Boolean, "include settled conflicts") },
    (i) => listConflicts({ all: i.all })
  ),
  tool(
    "conflict_show",
    "One conflict: base, ours, theirs and the events behind each; for an invariant conflict, what is wrong and its choices.",
    false,
    { id: described(conflictId, "the conflict's id: N (field) or iN (invariant)") },
    (i) => showConflict(i.id)
  ),
  tool(
    "resolve",
    "Settle conflicts with one side's value, as an event every peer sees when it pulls. dryRun shows base, ours, theirs and what would be written, and changes nothing; then pass expect with the previewed ids.",
    true,
    {
      id: optional(conflictId, "the conflict to settle: N (field) or iN (invariant)"),
      all: optional(Schema.Boolean, "every pending conflict of this scope matching the filters"),
      entity: optional(Schema.String, "with all: only this entity"),
      field: optional(Schema.String, "with all: only this field"),
      expect: optional(Schema.Array(Schema.Int), "with all: refuse (expect_mismatch) unless exactly these conflict ids match"),
      use: described(
        Schema.Union(Schema.Literal("ours", "theirs"), Schema.Int.pipe(Schema.positive()), Schema.String),
        "a field conflict's side to keep: ours, theirs, or a side's number (conflict_show lists every side); for an invariant conflict (iN) one of the choices conflict_show lists (drop:<source>><target>, restore, delete)"
      ),
      dryRun: optional(Schema.Boolean, "preview only")
    },
    (i) => resolveConflicts(i, i.use, i.dryRun === true)
  )
]
