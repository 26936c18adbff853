import { Effect } from "effect"
import { session } from "../../app/Session.ts"
import type { Handler } from "../execute.ts"
import { cell } from "../render.ts"
import { runTracker } from "../runTracker.ts"
import type { Input } from "../spec.ts"

/** `session`: orientation across tracker and sync (docs/agents.md); apart from work.ts because it builds every service. */

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

export const handlers: Record<string, Handler> = { session: orient }
