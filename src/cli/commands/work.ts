import { Args, Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import type { Note } from "../../projections/Work.ts"
import { Claims, parseDuration, type WorkKind } from "../../tracker/Claims.ts"
import { addNote } from "../../tracker/Notes.ts"
import { finishWork } from "../../tracker/Views.ts"
import * as Flags from "../options.ts"
import { entityLine } from "../render.ts"
import { runTracker } from "../run.ts"
import { id } from "./entities.ts"

/** The work-flow commands tasks and subtasks share: claim, release, heartbeat, done, note. */

export const acting = Options.text("owner").pipe(
  Options.withDescription("who acts (default: GROVE_ACTOR, else git user.email)"),
  Options.optional
)
export const force = Options.boolean("force").pipe(Options.withDescription("act although another owner holds the claim"))
export const lease = Options.text("lease").pipe(
  Options.withDescription("lease length (30m, 90s, 2h, 500ms): after it passes without a write by the owner, others may take the claim over"),
  Options.optional
)

export const leaseMs = (flag: Option.Option<string>) =>
  Option.isNone(flag) ? Effect.succeed(undefined) : parseDuration(flag.value)

export const noteLine = (n: Note) => `${n.time}  ${n.author}${n.author === n.actor ? "" : ` (actor ${n.actor})`} on ${n.branch} (${n.worktree}): ${n.text}`

export const claimCommand = (kind: WorkKind) =>
  Command.make("claim", { id, owner: acting, lease, ifVersion: Flags.ifVersion }, (o) =>
    runTracker(
      `${kind} claim`,
      Effect.gen(function*() {
        const r = yield* (yield* Claims).claim(kind, o.id, {
          owner: Flags.optional(o.owner),
          lease: yield* leaseMs(o.lease),
          ifVersion: Flags.optional(o.ifVersion)
        })
        return {
          data: r,
          text: [
            `${r.changed ? "Claimed" : "Already yours"}: ${entityLine(r.entity)}`,
            ...(r.lease === null ? [] : [`  lease until ${new Date(r.lease.expiresAt).toISOString()}`]),
            ...(r.previous === null ? [] : [`  taken over from ${r.previous.owner}, whose lease expired ${new Date(r.previous.expiredAt).toISOString()}`])
          ].join("\n")
        }
      })
    )).pipe(
      Command.withDescription(
        `Atomically claim a ${kind}: of racing claimers exactly one wins; the others exit 1 with claim_lost and the owner. An expired lease can be taken over.`
      )
    )

export const releaseCommand = (kind: WorkKind) =>
  Command.make("release", { id, owner: acting, force }, (o) =>
    runTracker(
      `${kind} release`,
      Effect.map(Effect.flatMap(Claims, (c) => c.release(kind, o.id, { owner: Flags.optional(o.owner), force: o.force })), (r) => ({
        data: r,
        text: r.changed ? `Released ${o.id} (was ${r.previousOwner})` : `${o.id} was not claimed`
      }))
    )).pipe(Command.withDescription(`Give a claimed ${kind} back: todo again, no owner. Only its owner, or anyone with --force.`))

export const heartbeatCommand = (kind: WorkKind) =>
  Command.make("heartbeat", { id, owner: acting, lease }, (o) =>
    runTracker(
      `${kind} heartbeat`,
      Effect.gen(function*() {
        const r = yield* (yield* Claims).heartbeat(kind, o.id, { owner: Flags.optional(o.owner), lease: yield* leaseMs(o.lease) })
        return { data: r, text: `Lease of ${o.id} renewed until ${new Date(r.lease!.expiresAt).toISOString()}` }
      })
    )).pipe(Command.withDescription(`Renew the lease on a ${kind} you claimed (during long work); --lease sets a new length.`))

export const doneCommand = (kind: WorkKind) =>
  Command.make("done", { id, owner: acting, force, ifVersion: Flags.ifVersion }, (o) =>
    runTracker(
      `${kind} done`,
      Effect.map(finishWork(kind, o.id, { owner: Flags.optional(o.owner), force: o.force, ifVersion: Flags.optional(o.ifVersion) }), (r) => {
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
    )).pipe(
      Command.withDescription(
        `Mark a ${kind} done (from any status, once its dependencies are done; a claimed one only by its owner or with --force). Prints what it unblocked and the next candidate.`
      )
    )

export const noteCommand = (kind: WorkKind) =>
  Command.make("note", { id, text: Args.text({ name: "text" }).pipe(Args.withDescription("the note")), owner: acting }, (o) =>
    runTracker(
      `${kind} note`,
      Effect.map(addNote(kind, o.id, o.text, { owner: Flags.optional(o.owner) }), (note) => ({ data: note, text: `Noted on ${o.id}: ${noteLine(note)}` }))
    )).pipe(Command.withDescription(`Append a note to a ${kind} (append-only; concurrent notes on several branches never conflict).`))
