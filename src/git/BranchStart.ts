import { Effect } from "effect"
import { Git } from "./Git.ts"

/** Where a branch started, as git's reflog records it. */
export interface BranchStart {
  /** The branch it was created from ("branch: Created from agent-b"); null for HEAD or a commit. */
  readonly from: string | null
  /** The commit it started at. */
  readonly commit: string
  /** When it was created, in ms (the reflog keeps seconds). */
  readonly at: number
}

/**
 * The oldest reflog entry of `refs/heads/<branch>`, when it records the
 * branch's creation. undefined when the branch has no reflog (reflogs off, or
 * expired) or its oldest entry is not a creation.
 */
export const branchStart = (cwd: string, branch: string) =>
  Effect.flatMap(Git, (git) =>
    Effect.map(
      git.run(cwd, ["reflog", "show", "--date=unix", "--format=%gd%x09%H%x09%gs", `refs/heads/${branch}`, "--"]),
      (r): BranchStart | undefined => {
        if (r.exitCode !== 0) return undefined
        const oldest = r.stdout.trim().split("\n").at(-1)?.split("\t")
        const match = oldest === undefined ? null : /@\{(\d+)\}$/.exec(oldest[0] ?? "")
        const created = oldest?.[2] === undefined ? null : /^branch: Created from (.+)$/.exec(oldest[2])
        if (match === null || created === null || oldest === undefined) return undefined
        const from = created[1]!
        const isBranchName = from !== "HEAD" && !/^[0-9a-f]{7,40}$/.test(from)
        return { from: isBranchName ? from.replace(/^refs\/heads\//, "") : null, commit: oldest[1]!, at: Number(match[1]) * 1000 }
      }
    ))
