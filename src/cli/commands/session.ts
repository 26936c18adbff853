import { Command } from "@effect/cli"
import { Effect } from "effect"
import { session as orient } from "../../tracker/Session.ts"
import * as Flags from "../options.ts"
import { runTracker } from "../run.ts"
import { acting } from "./work.ts"

const claimLine = (c: { readonly id: string; readonly title: string; readonly owner: string; readonly leaseExpiresAt: string | null }) =>
  `${c.id} ${c.title} @${c.owner}${c.leaseExpiresAt === null ? "" : ` (lease until ${c.leaseExpiresAt})`}`

export const session = Command.make("session", { owner: acting }, (o) =>
  runTracker(
    "session",
    Effect.map(orient({ owner: Flags.optional(o.owner) }), (s) => ({
      data: s,
      text: [
        `${s.worktree} on ${s.branch} as ${s.owner}${s.owner === s.actor ? "" : ` (actor ${s.actor})`}`,
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
  )).pipe(
    Command.withDescription(
      "Orientation in one call: this worktree, branch and actor, my claims, task counts, pending conflicts and how far behind the default source, and what every other worktree is doing."
    )
  )
