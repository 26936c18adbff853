import { Context, Effect, Layer } from "effect"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { Git, type GitFailed, type NotARepository } from "../git/Git.ts"
import { Repository } from "../git/Repository.ts"

/** Where a write happens: stamped on every transaction of events. */
export interface WriteContext {
  /** The branch name, or `detached@<sha>` on a detached HEAD; never empty. */
  readonly stream: string
  readonly worktree: string
  /** The HEAD commit; null on an unborn branch. */
  readonly head: string | null
  readonly actor: string
}

/** Reads the branch from the worktree's own HEAD file (no extra git process). */
const streamOf = (gitDir: string, head: string | null): string => {
  const content = NodeFs.readFileSync(NodePath.join(gitDir, "HEAD"), "utf8").trim()
  if (content.startsWith("ref: refs/heads/")) return content.slice("ref: refs/heads/".length)
  if (content.startsWith("ref: ")) return content.slice("ref: ".length)
  return `detached@${head ?? content}`
}

/**
 * The git context of this command, resolved at most once and before any write
 * lock is taken. HEAD is read fresh for every command, so a checkout between
 * commands moves later events to the new stream.
 */
export class GitContext extends Context.Tag("grove/GitContext")<GitContext, {
  readonly resolve: Effect.Effect<WriteContext, NotARepository | GitFailed>
}>() {
  /** `actor`: GROVE_ACTOR when set; else git's user.email, else user@host. */
  static readonly layer = (actor: string | undefined) =>
    Layer.effect(
      GitContext,
      Effect.gen(function*() {
        const git = yield* Git
        const repository = yield* Repository
        const resolve = Effect.gen(function*() {
          const paths = yield* repository.paths
          const stamped = actor || (yield* git.run(paths.worktree, ["config", "user.email"])).stdout.trim() ||
            `${NodeOs.userInfo().username}@${NodeOs.hostname()}`
          return { stream: streamOf(paths.gitDir, paths.head), worktree: paths.worktree, head: paths.head, actor: stamped }
        })
        return { resolve: yield* Effect.cached(resolve) }
      })
    )
}
