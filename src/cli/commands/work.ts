import { Effect } from "effect"
import { epicProgress, finishWork } from "../../tracker/Views.ts"
import { InvalidInput } from "../../errors/index.ts"
import { Work } from "../../projections/Work.ts"
import { Claims, type WorkKind } from "../../tracker/Claims.ts"
import { addNote } from "../../tracker/Notes.ts"
import { Tracker } from "../../tracker/Tracker.ts"
import type { Handler } from "../execute.ts"
import { cell, entityLine, noteLine } from "../render.ts"
import { leaseOf } from "../options.ts"
import { runCore } from "../run.ts"
import { runReader } from "../runReader.ts"
import type { Input } from "../spec.ts"

/** The agent's loop (docs/agents.md): claims, leases, notes, progress, trees; next.ts, session.ts and plan.ts hold the rest. */

const acting = (o: Input) => ({ owner: o.text("owner"), force: o.flag("force") })
const time = (ms: number) => new Date(ms).toISOString()

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

const kinds: ReadonlyArray<WorkKind> = ["task", "subtask"]

export const handlers: Record<string, Handler> = {
  ...Object.fromEntries(kinds.flatMap((kind) => [
    [`${kind} claim`, claim(kind)],
    [`${kind} release`, release(kind)],
    [`${kind} heartbeat`, heartbeat(kind)],
    [`${kind} done`, done(kind)],
    [`${kind} note`, note(kind)]
  ])),
  "epic progress": progress,
  "dep tree": tree
}
