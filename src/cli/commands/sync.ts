import { Args, Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { InvalidInput } from "../../errors/index.ts"
import { type Conflict, Conflicts } from "../../sync/Conflicts.ts"
import { type FetchReport, Remote } from "../../remote/Remote.ts"
import { Sync } from "../../sync/Sync.ts"
import { resolveConflicts } from "../../tracker/Views.ts"
import * as Flags from "../options.ts"
import { Repository } from "../../git/Repository.ts"
import { Sqlite } from "../../storage/Sqlite.ts"
import { watch } from "../../app/Watch.ts"
import { withTracker } from "../../app/AppLayer.ts"
import { Output, progressLine } from "../Output.ts"
import { respond } from "../respond.ts"
import { runTracker } from "../run.ts"

const from = Options.text("from").pipe(
  Options.withDescription("the source branch (default: origin/HEAD, else init.defaultBranch, else main or master)"),
  Options.optional
)

const show = (v: unknown) => (v === null || v === undefined ? "-" : JSON.stringify(v))

const conflictLine = (c: Conflict) =>
  `#${c.id}  ${c.entity.kind} ${c.entity.id}  ${c.field}: ours ${show(c.ours)} / theirs ${show(c.theirs)} (base ${show(c.base)})${c.status === "settled" ? "  settled" : ""}`

const status = Command.make("status", { from }, (o) =>
  runTracker(
    "sync status",
    Effect.map(Effect.flatMap(Sync, (s) => s.status(Flags.optional(o.from))), (r) => ({
      data: r,
      text: `${r.currentBranch} vs ${r.sourceBranch}: ${r.behind} behind, ${r.ahead} ahead, ${r.pendingConflicts} pending conflict${r.pendingConflicts === 1 ? "" : "s"}`
    }))
  )).pipe(Command.withDescription("How this branch's knowledge compares with a source branch, and its pending conflicts."))

const pull = Command.make("pull", { from }, (o) =>
  runTracker(
    "sync pull",
    Effect.gen(function*() {
      const progress = progressLine((yield* Output).json, "learnt events:")
      const r = yield* (yield* Sync).pull(Flags.optional(o.from), progress.report ? { onProgress: progress.report } : {})
      progress.end()
      return {
        data: r,
        text: [
          `Pulled ${r.sourceBranch} into ${r.currentBranch}: ${r.scanned} events, ${r.conflictsCreated} conflicts created, ${r.conflictsSettled} settled`,
          ...(r.quarantined > 0
            ? [`Quarantined ${r.quarantined}: ${Object.entries(r.quarantinedByReason).map(([k, n]) => `${k} ${n}`).join(", ")}`]
            : [])
        ].join("\n")
      }
    })
  )).pipe(Command.withDescription("Learn what the source branch knows and record the conflicts that creates; never changes the live state."))

const list = Command.make(
  "list",
  { all: Options.boolean("all").pipe(Options.withDescription("include settled conflicts")) },
  (o) =>
    runTracker(
      "sync conflicts list",
      Effect.map(Effect.flatMap(Conflicts, (c) => c.list({ all: o.all })), (cs) => ({
        data: cs,
        text: cs.length === 0 ? "No conflicts." : cs.map(conflictLine).join("\n")
      }))
    )
).pipe(Command.withDescription("This worktree and branch's pending conflicts (--all: settled ones too)."))

const conflictId = Args.integer({ name: "id" }).pipe(Args.withDescription("the conflict's id"))

const eventText = (label: string, e: Conflict["oursEvent"] | null) =>
  e === null ? [] : [`  ${label}: ${e.op} #${e.seq} on ${e.stream} by ${e.actor} at ${e.time} (head ${e.head ?? "-"})`]

const showConflict = Command.make("show", { id: conflictId }, (o) =>
  runTracker(
    "sync conflicts show",
    Effect.map(Effect.flatMap(Conflicts, (c) => c.show(o.id)), (c) => ({
      data: c,
      text: [
        conflictLine(c),
        `  scope: ${c.scope.branch} at ${c.scope.worktree}`,
        ...eventText("base", c.baseEvent),
        ...eventText("ours", c.oursEvent),
        ...eventText("theirs", c.theirsEvent),
        ...eventText("settled by", c.settledBy)
      ].join("\n")
    }))
  )).pipe(Command.withDescription("One conflict: base, ours, theirs and the events behind each."))

const conflicts = Command.make("conflicts").pipe(
  Command.withDescription("Conflicts recorded in this worktree's scope."),
  Command.withSubcommands([list, showConflict])
)

const resolve = Command.make(
  "resolve",
  {
    id: Args.integer({ name: "id" }).pipe(Args.withDescription("the conflict to settle"), Args.optional),
    use: Options.choice("use", ["ours", "theirs"]).pipe(Options.withDescription("which side's value to keep")),
    all: Options.boolean("all").pipe(Options.withDescription("every pending conflict of this scope matching the filters")),
    entity: Options.text("entity").pipe(Options.withDescription("with --all: only this entity"), Options.optional),
    field: Options.text("field").pipe(Options.withDescription("with --all: only this field"), Options.optional),
    expect: Options.text("expect").pipe(Options.withDescription("with --all: refuse unless exactly these ids (comma-separated) match"), Options.optional),
    dryRun: Options.boolean("dry-run").pipe(Options.withDescription("show base, ours, theirs and what would be written; change nothing"))
  },
  (o) =>
    runTracker(
      "sync resolve",
      Effect.gen(function*() {
        const expect = Option.getOrUndefined(o.expect)?.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number)
        if (expect?.some((n) => !Number.isInteger(n))) {
          return yield* new InvalidInput({ message: "--expect takes comma-separated conflict ids", details: { expect: Option.getOrUndefined(o.expect) } })
        }
        const r = yield* resolveConflicts(
          { id: Option.getOrUndefined(o.id), all: o.all, entity: Flags.optional(o.entity), field: Flags.optional(o.field), expect },
          o.use as "ours" | "theirs",
          o.dryRun
        )
        return {
          data: r,
          text: [
            `${r.dryRun ? "Would resolve" : "Resolved"} ${r.resolutions.length} conflict${r.resolutions.length === 1 ? "" : "s"} with ${o.use}:`,
            ...r.resolutions.flatMap((x) => [
              `  #${x.conflict} ${x.entity.kind} ${x.entity.id} ${x.field}: base ${show(x.base)}, ours ${show(x.ours)}, theirs ${show(x.theirs)} -> ${show(x.value)}`,
              ...x.writes.slice(1).map((w) => `      and restore ${w.entity}`)
            ]),
            ...(r.dryRun ? [`Apply with: grove sync resolve --all --use ${o.use} --expect ${r.resolutions.map((x) => x.conflict).join(",")}`] : [])
          ].join("\n")
        }
      })
    )
).pipe(Command.withDescription("Settle conflicts with one side's value, as an event every peer sees when it pulls."))

const remoteArg = Args.text({ name: "remote" }).pipe(
  Args.withDescription("a configured git remote (default: the branch's upstream remote, else origin)"),
  Args.optional
)

const fetchText = (r: FetchReport) =>
  [
    `Fetched ${r.remote}: ${r.imported} events imported, ${r.known} already here${r.waiting > 0 ? `, ${r.waiting} waiting for events not pushed yet` : ""} (${r.refs} grove refs)`,
    ...(r.quarantined > 0 ? [`Quarantined ${r.quarantined}: ${Object.entries(r.quarantinedByReason).map(([k, n]) => `${k} ${n}`).join(", ")}`] : [])
  ]

const fetchCommand = Command.make("fetch", { remote: remoteArg }, (o) =>
  runTracker(
    "sync fetch",
    Effect.map(Effect.flatMap(Remote, (r) => r.fetch(Option.getOrUndefined(o.remote))), (r) => ({ data: r, text: fetchText(r).join("\n") }))
  )).pipe(Command.withDescription(
    "Import the events other clones pushed to a git remote (grove's refs); then `sync pull --from <branch>` learns them. Idempotent."
  ))

const pushCommand = Command.make("push", { remote: remoteArg }, (o) =>
  runTracker(
    "sync push",
    Effect.map(Effect.flatMap(Remote, (r) => r.push(Option.getOrUndefined(o.remote))), (r) => ({
      data: r,
      text: [
        ...fetchText(r.fetched),
        r.pushed.length === 0
          ? `Nothing to push: ${r.remote} has every event here.`
          : `Pushed to ${r.remote}: ${r.pushed.map((p) => `refs/grove/${p.ref} ${p.from}-${p.to}`).join(", ")}${r.attempts > 1 ? ` (after ${r.attempts - 1} rejected attempt${r.attempts > 2 ? "s" : ""})` : ""}`
      ].join("\n")
    }))
  )).pipe(Command.withDescription(
    "Fetch, then publish this database's events the remote lacks as bundles under refs/grove/<replica>/<branch>, with plain git push."
  ))

const positive = (name: string, fallback: number) =>
  Options.integer(name).pipe(Options.optional, Options.map((v) => ({ name, value: Option.getOrElse(v, () => fallback) })))

const watchCommand = Command.make(
  "watch",
  {
    from: Options.text("from").pipe(Options.withDescription("a source branch; repeat for several (default: the default branch)"), Options.repeated),
    interval: positive("interval", 2000).pipe(Options.withDescription("tick at least every MS milliseconds (default 2000)")),
    idle: positive("idle-ms", 5000).pipe(Options.withDescription("PASSIVE checkpoint after MS milliseconds without new data (default 5000)")),
    walBound: positive("wal-bound-mib", 64).pipe(Options.withDescription("TRUNCATE checkpoint when the WAL passes N MiB (default 64)")),
    poll: positive("poll-ms", 100).pipe(Options.withDescription("how often to look for new data and HEAD changes (default 100)")),
    once: Options.boolean("once").pipe(Options.withDescription("run one tick and exit")),
    remoteEvery: Options.integer("remote-every").pipe(
      Options.withDescription("also fetch and push through a git remote every MS milliseconds (sync push)"),
      Options.optional
    ),
    remote: Options.text("remote").pipe(Options.withDescription("with --remote-every: the remote (default: upstream, else origin)"), Options.optional)
  },
  (o) =>
    respond(
      "sync watch",
      Effect.gen(function*() {
        for (const flag of [o.interval, o.idle, o.walBound, o.poll, ...Option.toArray(Option.map(o.remoteEvery, (value) => ({ name: "remote-every", value })))]) {
          if (flag.value <= 0) return yield* new InvalidInput({ message: `--${flag.name} must be positive, got ${flag.value}`, details: { flag: flag.name } })
        }
        if (Option.isSome(o.remote) && Option.isNone(o.remoteEvery)) {
          return yield* new InvalidInput({ message: "--remote goes with --remote-every", details: { flag: "remote" } })
        }
        const cwd = process.cwd()
        const paths = yield* withTracker(cwd)(Effect.gen(function*() {
          const { path } = yield* Sqlite
          const repository = yield* (yield* Repository).paths
          return { database: path, gitDir: repository.gitDir }
        }))
        const ticks = yield* Effect.scoped(watch(
          {
            sources: o.from,
            intervalMs: o.interval.value,
            idleMs: o.idle.value,
            walBoundBytes: o.walBound.value * 1024 * 1024,
            pollMs: o.poll.value,
            once: o.once,
            exchange: Option.getOrUndefined(Option.map(o.remoteEvery, (everyMs) => ({
              everyMs,
              run: withTracker(cwd)(Effect.map(Effect.flatMap(Remote, (r) => r.push(Option.getOrUndefined(o.remote))), (p) => ({
                remote: p.remote,
                imported: p.fetched.imported,
                pushed: p.pushed.reduce((n, x) => n + x.to - x.from + 1, 0)
              })))
            })))
          },
          paths,
          withTracker(cwd),
          (line) => process.stdout.write(`${JSON.stringify(line)}\n`)
        ))
        // Only --once gets here: otherwise the watcher runs until a signal interrupts it.
        return { data: { ticks }, text: `grove sync watch: ${ticks} tick done` }
      })
    )
).pipe(Command.withDescription("Keep this worktree reconciled: pull on new data or HEAD changes, one JSON line per tick, WAL upkeep."))

export const sync = Command.make("sync").pipe(
  Command.withDescription("Reconcile what branches did concurrently."),
  Command.withSubcommands([status, pull, conflicts, resolve, fetchCommand, pushCommand, watchCommand])
)
