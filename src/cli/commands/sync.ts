import { Effect } from "effect"
import { listConflicts, resolveConflicts, showConflict as showConflictView } from "../../sync/resolve.ts"
import { InvalidInput } from "../../errors/index.ts"
import type { Conflict, EventInfo } from "../../sync/Conflicts.ts"
import type { InvariantConflict } from "../../sync/InvariantConflicts.ts"
import { type FetchReport, Remote } from "../../remote/Remote.ts"
import { Repository } from "../../git/Repository.ts"
import { Sqlite } from "../../storage/Sqlite.ts"
import { trySqlite } from "../../storage/errors.ts"
import { localReplicaName } from "../../events/streams.ts"
import { Backup } from "../../migrations/Backup.ts"
import { renewReplicaId } from "../../remote/Replica.ts"
import { ownPublicKey, pinnedKeys } from "../../remote/Signing.ts"
import { Quarantine, type QuarantinedRef } from "../../remote/Quarantine.ts"
import * as NodeFs from "node:fs"
import { watch } from "../../app/Watch.ts"
import { withTracker } from "../../app/AppLayer.ts"
import { respond } from "../respond.ts"
import { runTracker } from "../runTracker.ts"
import type { Handler } from "../execute.ts"
import type { Input } from "../spec.ts"

/** The sync commands beyond status and pull: conflicts, resolve, fetch, push, watch. */

const show = (v: unknown) => (v === null || v === undefined ? "-" : JSON.stringify(v))

const fieldLine = (c: Conflict) =>
  `#${c.id}  ${c.entity.kind} ${c.entity.id}  ${c.field}: ours ${show(c.ours)} / theirs ${show(c.theirs)} (base ${show(c.base)})${c.status === "settled" ? "  settled" : ""}`

const conflictLine = (c: Conflict | InvariantConflict) =>
  c.kind === "field" ? fieldLine(c) : `#${c.id}  ${c.invariant}: ${c.problem}${c.status === "settled" ? "  settled" : ""}`

const list: Handler = (o: Input) =>
  runTracker(
    "sync conflicts list",
    Effect.map(listConflicts({ all: o.flag("all") }), (cs) => ({
      data: cs,
      text: cs.length === 0 ? "No conflicts." : cs.map(conflictLine).join("\n")
    }))
  )

const eventText = (label: string, e: EventInfo | null) =>
  e === null ? [] : [`  ${label}: ${e.op} #${e.seq} on ${e.stream} by ${e.actor} at ${e.time} (head ${e.head ?? "-"})`]

const detailText = (c: Conflict | InvariantConflict) =>
  c.kind === "field"
    ? [
      ...eventText("base", c.baseEvent),
      ...eventText("ours", c.oursEvent),
      ...eventText("theirs", c.theirsEvent),
      // Three or more branches disagree: every side, by the number --use takes.
      ...(c.sides.length > 2
        ? c.sides.map((side) => `  side ${side.side}: ${show(side.value)} (${side.events.map((e) => `#${e.seq} on ${e.stream}`).join(", ")})`)
        : [])
    ]
    : [
      ...c.events.flatMap((e) => eventText(`${e.role} ${e.entity}`, e.event)),
      ...(c.choices.length === 0 ? [] : ["  resolve with one of:", ...c.choices.map((x) => `    grove sync resolve ${c.id} --use ${quote(x.use)}   ${x.does}`)])
    ]

const showConflict: Handler = (o: Input) =>
  runTracker(
    "sync conflicts show",
    Effect.map(showConflictView(o.text("id")!), (c) => ({
      data: c,
      text: [
        conflictLine(c),
        `  scope: ${c.scope.branch} at ${c.scope.worktree}`,
        ...detailText(c),
        ...eventText("settled by", c.settledBy)
      ].join("\n")
    }))
  )

const resolve: Handler = (o: Input) =>
  runTracker(
    "sync resolve",
    Effect.gen(function*() {
      const id = o.text("id")
      const all = o.flag("all")
      const use = o.required("use")
      const expect = o.text("expect")?.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number)
      if (expect?.some((n) => !Number.isInteger(n))) {
        return yield* new InvalidInput({ message: "--expect takes comma-separated conflict ids", details: { expect: o.text("expect") } })
      }
      const r = yield* resolveConflicts({ id, all, entity: o.text("entity"), field: o.text("field"), expect }, use, o.flag("dry-run"))
      return {
        data: r,
        text: [
          `${r.dryRun ? "Would resolve" : "Resolved"} ${r.resolutions.length} conflict${r.resolutions.length === 1 ? "" : "s"} with ${use}:`,
          ...r.resolutions.flatMap((x) =>
            "does" in x
              ? [`  #${x.conflict} ${x.invariant}: ${x.does}`, ...x.writes.map((w) => `      ${w.entity} ${w.field} -> ${show(w.value)}`)]
              : [
                `  #${x.conflict} ${x.entity.kind} ${x.entity.id} ${x.field}: base ${show(x.base)}, ours ${show(x.ours)}, theirs ${show(x.theirs)} -> ${show(x.value)}`,
                ...x.writes.slice(1).map((w) => `      and restore ${w.entity}`)
              ]
          ),
          // The hint repeats the filters: without them the applied set differs from the previewed one (expect_mismatch).
          ...(r.dryRun
            ? [`Apply with: ${applyCommand(id, use, o.text("entity"), o.text("field"), r.resolutions.map((x) => x.conflict))}`]
            : [])
        ].join("\n")
      }
    })
  )

/** The command that applies what a --dry-run previewed, with the same selection. */
const applyCommand = (id: string | undefined, use: string, entity: string | undefined, field: string | undefined, ids: ReadonlyArray<number | string>) =>
  id !== undefined
    ? `grove sync resolve ${id} --use ${quote(use)}`
    : [
      "grove sync resolve --all",
      `--use ${use}`,
      ...(entity !== undefined ? [`--entity ${quote(entity)}`] : []),
      ...(field !== undefined ? [`--field ${quote(field)}`] : []),
      `--expect ${ids.join(",")}`
    ].join(" ")

/** A shell word: bare when safe, else single-quoted. */
const quote = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`)

const fetchText = (r: FetchReport) =>
  [
    `Fetched ${r.remote}: ${r.imported} events imported, ${r.known} already here${r.waiting > 0 ? `, ${r.waiting} waiting for events not pushed yet` : ""} (${r.refs} grove refs)`,
    ...(r.quarantined > 0 ? [`Quarantined ${r.quarantined}: ${Object.entries(r.quarantinedByReason).map(([k, n]) => `${k} ${n}`).join(", ")}`] : []),
    ...r.unsigned.map((ref) => `Unsigned: refs/grove/${ref} (its replica has never signed; what it holds is not authenticated)`),
    ...(r.invariantConflicts.created.length > 0
      ? [`The live state now breaks the graph's rules (a dependency cycle or an orphan): recorded ${r.invariantConflicts.created.join(", ")}; see grove sync conflicts show <id>`]
      : [])
  ]

const fetchCommand: Handler = (o: Input) =>
  runTracker(
    "sync fetch",
    Effect.map(Effect.flatMap(Remote, (r) => r.fetch(o.text("remote"))), (r) => ({ data: r, text: fetchText(r).join("\n") }))
  )

const pushCommand: Handler = (o: Input) =>
  runTracker(
    "sync push",
    Effect.map(Effect.flatMap(Remote, (r) => r.push(o.text("remote"))), (r) => ({
      data: r,
      text: [
        ...fetchText(r.fetched),
        r.pushed.length === 0
          ? `Nothing to push: ${r.remote} has every event here.`
          : `Pushed to ${r.remote}: ${r.pushed.map((p) => `refs/grove/${p.ref} ${p.from}-${p.to}`).join(", ")}${r.attempts > 1 ? ` (after ${r.attempts - 1} rejected attempt${r.attempts > 2 ? "s" : ""})` : ""}`,
        ...r.held.map((h) => `Held back another clone's ref refs/grove/${h.ref} (${h.code}: ${h.detail}); see grove sync quarantine list`)
      ].join("\n")
    }))
  )

const watchCommand: Handler = (o: Input) =>
  respond(
    "sync watch",
    Effect.gen(function*() {
      const positive = (name: string, fallback: number) => ({ name, value: o.integer(name) ?? fallback })
      const [interval, idle, walBound, poll] = [positive("interval", 2000), positive("idle-ms", 5000), positive("wal-bound-mib", 64), positive("poll-ms", 100)]
      const remoteEvery = o.integer("remote-every")
      for (const flag of [interval, idle, walBound, poll, ...(remoteEvery === undefined ? [] : [{ name: "remote-every", value: remoteEvery }])]) {
        if (flag.value <= 0) return yield* new InvalidInput({ message: `--${flag.name} must be positive, got ${flag.value}`, details: { flag: flag.name } })
      }
      if (o.has("remote") && remoteEvery === undefined) {
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
          sources: o.list("from"),
          intervalMs: interval.value,
          idleMs: idle.value,
          walBoundBytes: walBound.value * 1024 * 1024,
          pollMs: poll.value,
          once: o.flag("once"),
          exchange: remoteEvery === undefined ? undefined : {
            everyMs: remoteEvery,
            run: withTracker(cwd)(Effect.map(Effect.flatMap(Remote, (r) => r.push(o.text("remote"))), (p) => ({
              remote: p.remote,
              imported: p.fetched.imported,
              pushed: p.pushed.reduce((n, x) => n + x.to - x.from + 1, 0)
            })))
          }
        },
        paths,
        withTracker(cwd),
        writeLine
      ))
      // Only --once gets here: otherwise the watcher runs until a signal interrupts it.
      return { data: { ticks }, text: `grove sync watch: ${ticks} tick done` }
    })
  )

/**
 * One tick line on stdout, written synchronously: a closed pipe is an EPIPE
 * here, which ends the watcher cleanly (lock released), instead of an
 * asynchronous stream error that would kill the process with its lock behind.
 */
const writeLine = (line: unknown) => {
  try {
    NodeFs.writeSync(1, `${JSON.stringify(line)}\n`)
    return true
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EPIPE") return false
    throw e
  }
}

const refLine = (r: QuarantinedRef) =>
  `${r.id}  ${r.remote} refs/grove/${r.ref} at ${r.tip.slice(0, 12)}  ${r.code}: ${r.detail}${r.droppedAt === null ? "" : `  (dropped ${r.droppedAt})`}`

const quarantineList: Handler = () =>
  runTracker(
    "sync quarantine list",
    Effect.map(Effect.flatMap(Quarantine, (q) => q.list), (l) => ({
      data: l,
      text: l.refs.length + l.events.length === 0 ? "Nothing is quarantined." : [
        ...l.refs.map(refLine),
        ...l.events.map((e) => `${e.id}  event ${e.eventId} (${e.op} on ${e.stream})  ${e.reason}: ${e.detail}`)
      ].join("\n")
    }))
  )

const quarantineShow: Handler = (o: Input) =>
  runTracker(
    "sync quarantine show",
    Effect.map(Effect.flatMap(Quarantine, (q) => q.show(o.required("id"))), (r) => ({
      data: r,
      text: r.kind === "ref" ? refLine(r.ref) : JSON.stringify(r.event, null, 2)
    }))
  )

const quarantineRetry: Handler = (o: Input) =>
  runTracker(
    "sync quarantine retry",
    Effect.map(Effect.flatMap(Quarantine, (q) => q.retry(o.required("id"))), (r) => ({
      data: r,
      text: r.accepted
        ? `refs/grove/${r.ref.ref} of ${r.ref.remote} verifies now (${r.imported} events imported).`
        : `refs/grove/${r.ref.ref} of ${r.ref.remote} is still refused: ${r.refusal!.code}: ${r.refusal!.detail}`
    }))
  )

const quarantineDrop: Handler = (o: Input) =>
  runTracker(
    "sync quarantine drop",
    Effect.map(Effect.flatMap(Quarantine, (q) => q.drop(o.required("id"))), (r) => ({
      data: r,
      text: `Dropped ${r.id}: fetch ignores refs/grove/${r.ref} of ${r.remote} while it stays at ${r.tip.slice(0, 12)}.`
    }))
  )

const replica: Handler = (o: Input) =>
  runTracker(
    "sync replica",
    Effect.gen(function*() {
      const { db } = yield* Sqlite
      if (!o.flag("renew")) {
        const r = yield* trySqlite(() => ({ replica: localReplicaName(db), publicKey: ownPublicKey(db) ?? null, pinned: pinnedKeys(db) }))
        return {
          data: r,
          text: [
            `This database is replica ${r.replica}; its refs are refs/grove/${r.replica}/<branch>.`,
            r.publicKey === null ? "It has not signed anything yet (its key is created by its first push)." : `It signs with key ${r.publicKey}.`,
            ...r.pinned.map((p) => `Pinned: replica ${p.replica} signs with ${p.publicKey} (first seen on ${p.remote === "" ? "this database's original" : p.remote} at ${p.pinnedAt})`)
          ].join("\n")
        }
      }
      const backup = (yield* (yield* Backup).create()).path
      const r = yield* trySqlite(() => db.transaction(() => renewReplicaId(db)).immediate())
      return {
        data: { ...r, backup },
        text: `This database is now replica ${r.replica}; what it wrote as ${r.previous} stays that replica's (backup: ${backup}).`
      }
    })
  )

export const handlers: Record<string, Handler> = {
  "sync quarantine list": quarantineList,
  "sync quarantine show": quarantineShow,
  "sync quarantine retry": quarantineRetry,
  "sync quarantine drop": quarantineDrop,
  "sync replica": replica,
  "sync conflicts list": list,
  "sync conflicts show": showConflict,
  "sync resolve": resolve,
  "sync fetch": fetchCommand,
  "sync push": pushCommand,
  "sync watch": watchCommand
}
