import { Effect } from "effect"
import { InvalidInput } from "../errors/index.ts"
import type { GitContext } from "../events/GitContext.ts"

/**
 * Who acts and for how long: the agent-loop inputs both the writes (Claims.ts)
 * and the read-only pick of `next` (Pick.ts) take, kept apart from the write
 * path so that a read does not load it.
 */

/** Who acts: the --owner given, else the actor stamped on events (GROVE_ACTOR, else git user.email). */
export interface Acting {
  readonly owner?: string | undefined
  readonly force?: boolean | undefined
}

/** The acting owner's name: --owner, or the actor. */
export const whoActs = (git: typeof GitContext.Service) => (acting: Acting): Effect.Effect<string, InvalidInput | Effect.Effect.Error<typeof git.resolve>> =>
  acting.owner === undefined
    ? Effect.map(git.resolve, (c) => c.actor)
    : acting.owner.trim() === ""
    ? Effect.fail(new InvalidInput({ message: "--owner must not be empty", details: { field: "owner" } }))
    : Effect.succeed(acting.owner.trim())

/** "30m", "90s", "2h", "500ms", "1d": a lease length in milliseconds. */
export const parseDuration = (text: string) => {
  const m = /^\s*(\d+)\s*(ms|s|m|h|d)\s*$/.exec(text)
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
  const ms = m === null ? 0 : Number(m[1]) * unit[m[2] as keyof typeof unit]
  return ms > 0 && Number.isSafeInteger(ms)
    ? Effect.succeed(ms)
    : Effect.fail(new InvalidInput({ message: `--lease must be a positive duration such as 30m, 90s, 2h or 500ms, got '${text}'`, details: { flag: "lease", value: text } }))
}
