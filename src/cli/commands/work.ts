import { Effect } from "effect"
import { epicProgress, finishWork } from "../../tracker/Views.ts"
import { InvalidInput } from "../../errors/index.ts"
import { type Note, Work } from "../../projections/Work.ts"
import { Claims, parseDuration, type WorkKind } from "../../tracker/Claims.ts"
import { Next } from "../../tracker/Next.ts"
import { addNote } from "../../tracker/Notes.ts"
import { applyPlan, parsePlan } from "../../tracker/Plan.ts"
import { session } from "../../app/Session.ts"
import { Tracker } from "../../tracker/Tracker.ts"
import type { Handler } from "../execute.ts"
import { readInput } from "../options.ts"
import { cell, entityLine } from "../render.ts"
import { runCore, runReader } from "../run.ts"
import { runTracker } from "../runTracker.ts"
import type { Input } from "../spec.ts"

/** The agent's loop (docs/agents.md): claims, leases, notes, next, session, progress, trees, plans. */

const leaseOf = (o: Input) => {
  const text = o.text("lease")
  return text === undefined ? Effect.succeed(undefined) : parseDuration(text)
}
const acting = (o: Input) => ({ owner: o.text("owner"), force: o.flag("force") })
const time = (ms: number) => new Date(ms).toISOString()

export const noteLine = (n: Note) =>
  `${n.time}  ${cell(n.author, 40)}${n.author === n.actor ? "" : ` (actor ${cell(n.actor, 40)})`} on ${cell(n.branch, 60)} (${cell(n.worktree, 80)}): ${cell(n.text)}`

const claim = (kind: WorkKind): Handler => (o: Input) =>
  runCore(
    `${kind} claim`,
    Effect.gen(function*() {
      const r = yield* (yield* Claims).claim(kind, o.required("id"), { owner: o.text("owner"), lease: yield* leaseOf(o), ifVersion: o.integer("if-version") })
      return {
        data: r,
        text: [
          `${r.changed ? "Claimed" : "Already yours"}: ${entityLine(r.entity)}`,
          ...(r.lease === null ? [] : [`  lease until ${time(r.lease.expiresAt)}`]),
          ...(r.previous === null ? [] : [`  taken over from ${cell(r.previous.owner, 40)}, whose lease expired ${time(r.previous.expiredAt)}`])
        ].join("\n")
      }
    })
  )

const release = (kind: WorkKind): Handler => (o: Input) =>
  runCore(
    `${kind} release`,
    Effect.map(Effect.flatMap(Claims, (c) => c.release(kind, o.required("id"), acting(o))), (r) => ({
      data: r,
      text: r.changed ? `Released ${o.required("id")} (was ${cell(r.previousOwner ?? "-", 40)})` : `${o.required("id")} was not claimed`
    }))
  )

const heartbeat = (kind: WorkKind): Handler => (o: Input) =>
  runCore(
    `${kind} heartbeat`,
    Effect.gen(function*() {
      const r = yield* (yield* Claims).heartbeat(kind, o.required("id"), { owner: o.text("owner"), lease: yield* leaseOf(o) })
      return { data: r, text: `Lease of ${o.required("id")} renewed until ${time(r.lease!.expiresAt)}` }
    })
  )

const done = (kind: WorkKind): Handler => (o: Input) =>
  runCore(
    `${kind} done`,
    Effect.map(finishWork(kind, o.required("id"), { ...acting(o), ifVersion: o.integer("if-version") }), (r) => {
      const next = r.next
      return {
        data: r,
        text: [
          `${r.changed ? "Done" : "Already done"}: ${entityLine(r.entity)}`,
          ...(r.unblocked.length === 0 ? [] : [`  unblocked: ${r.unblocked.map((u) => u.id).join(", ")}`]),
          next === null ? "  next: nothing ready" : `  next: ${entityLine(next)}`
        ].join("\n")
      }
    })
  )

const note = (kind: WorkKind): Handler => (o: Input) =>
  runCore(
    `${kind} note`,
    Effect.map(addNote(kind, o.required("id"), o.required("text"), { owner: o.text("owner") }), (n) => ({
      data: n,
      text: `Noted on ${o.required("id")}: ${noteLine(n)}`
    }))
  )

const next: Handler = (o: Input) =>
  runCore(
    "next",
    Effect.gen(function*() {
      const r = yield* (yield* Next).next({ epic: o.text("epic"), owner: o.text("owner"), claim: o.flag("claim"), lease: yield* leaseOf(o) })
      if (r.task === null) {
        return {
          data: r,
          text: r.state === "finished" ? "Nothing left: every task is done." : `Nothing ready: ${r.open} open, ${r.inProgress} in progress; try again later.`
        }
      }
      return {
        data: r,
        text: [
          `${r.resumed ? "Resume" : r.claimed ? "Claimed" : "Next"}: ${entityLine(r.task)}`,
          ...(r.epic === null ? [] : [`  epic: ${r.epic.id} ${cell(r.epic.title)}`]),
          ...(r.dependsOn.length ? [`  depends on: ${r.dependsOn.map((d) => `${d.id} [${d.status}]`).join(", ")}`] : []),
          ...(r.subtasks.length ? ["  subtasks:", ...r.subtasks.map((s) => `    ${entityLine(s)}`)] : []),
          ...(r.notes.length ? ["  notes:", ...r.notes.map((n) => `    ${noteLine(n)}`)] : [])
        ].join("\n")
      }
    })
  )

const claimLine = (c: { readonly id: string; readonly title: string; readonly owner: string; readonly leaseExpiresAt: string | null }) =>
  `${c.id} ${cell(c.title)} @${cell(c.owner, 40)}${c.leaseExpiresAt === null ? "" : ` (lease until ${c.leaseExpiresAt})`}`

const orient: Handler = (o: Input) =>
  runTracker(
    "session",
    Effect.map(session({ owner: o.text("owner") }), (s) => ({
      data: s,
      text: [
        `${s.worktree} on ${s.branch} as ${cell(s.owner, 40)}${s.owner === s.actor ? "" : ` (actor ${cell(s.actor, 40)})`}`,
        `tasks: ${s.tasks.ready} ready, ${s.tasks.inProgress} in progress, ${s.tasks.blocked} blocked, ${s.tasks.waiting} waiting on dependencies, ${s.tasks.done} done`,
        s.sync.source === null
          ? `sync: ${"error" in s.sync ? s.sync.error : "no default source"}`
          : `sync: ${s.sync.behind} behind ${s.sync.source}, ${s.sync.pendingConflicts} pending conflicts`,
        ...(s.myClaims.length ? ["my claims:", ...s.myClaims.map((c) => `  ${claimLine(c)}`)] : ["my claims: none"]),
        ...s.others.flatMap((w) => [
          `${w.worktree} on ${w.branch}: ${w.actors.join(", ") || "no writes"}${w.lastActivity === null ? "" : `, last ${w.lastActivity}`}`,
          ...w.claims.map((c) => `  ${claimLine(c)}`)
        ])
      ].join("\n")
    }))
  )

const progress: Handler = (o: Input) =>
  runReader(
    "epic progress",
    Effect.map(epicProgress(o.required("id")), (data) => {
      const { epic: id, next, ...counts } = data
      return {
        data,
        text: [
          `${id}: ${counts.done}/${counts.total} done, ${counts.inProgress} in progress, ${counts.todo} todo (${counts.ready} ready, ${counts.waiting} waiting on dependencies), ${counts.blocked} blocked`,
          next === null ? "  next: nothing ready" : `  next: ${entityLine(next)}`
        ].join("\n")
      }
    })
  )

const tree: Handler = (o: Input) =>
  runCore(
    "dep tree",
    Effect.gen(function*() {
      const depth = o.integer("depth")
      if (depth !== undefined && depth < 0) return yield* new InvalidInput({ message: `--depth must not be negative, got ${depth}`, details: { flag: "depth" } })
      const node = yield* (yield* Tracker).findNode(o.required("id"))
      const reverse = o.flag("reverse")
      const nodes = yield* (yield* Work).tree({ kind: node.kind, id: node.id }, { reverse, depth: depth ?? 1_000_000 })
      return {
        data: { root: { kind: node.kind, id: node.id }, reverse, nodes },
        text: nodes.length === 0
          ? `${node.id} ${reverse ? "has no dependents" : "depends on nothing"}.`
          : nodes.map((n) => `${"  ".repeat(n.distance)}${n.id}  [${n.status}]  ${cell(n.title)}  (distance ${n.distance}, via ${n.via})`).join("\n")
      }
    })
  )

const plan: Handler = (o: Input) =>
  runCore(
    "plan apply",
    Effect.gen(function*() {
      const r = yield* applyPlan(yield* parsePlan(yield* readInput(o.required("file"))))
      const c = r.created
      return {
        data: r,
        text: r.changed
          ? `Applied plan ${cell(r.plan, 60)} to epic ${r.epic}: created ${c.epics} epic, ${c.tasks} tasks, ${c.subtasks} subtasks, ${c.dependencies} dependencies`
          : `Plan ${cell(r.plan, 60)} is already applied to epic ${r.epic}: nothing changed`
      }
    })
  )

const kinds: ReadonlyArray<WorkKind> = ["task", "subtask"]

export const handlers: Record<string, Handler> = {
  ...Object.fromEntries(kinds.flatMap((kind) => [
    [`${kind} claim`, claim(kind)],
    [`${kind} release`, release(kind)],
    [`${kind} heartbeat`, heartbeat(kind)],
    [`${kind} done`, done(kind)],
    [`${kind} note`, note(kind)]
  ])),
  next,
  session: orient,
  "epic progress": progress,
  "dep tree": tree,
  "plan apply": plan
}
