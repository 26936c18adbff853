import { Context, Effect, Layer } from "effect"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { readConfigValue } from "../git/ConfigFiles.ts"
import { Git, type GitFailed, type NotARepository, type RepositoryPaths } from "../git/Git.ts"
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
export const streamOf = (gitDir: string, head: string | null): string => {
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
        const resolve = Effect.flatMap(repository.paths, (paths) => Effect.map(actorOf(git, paths, actor), (stamped) => contextOf(paths, stamped)))
        return { resolve: yield* Effect.cached(resolve) }
      })
    )

  /**
   * For a long-lived process (`grove mcp`): HEAD and branch are read again on
   * every resolve, so a checkout or commit while it runs stamps later events
   * correctly. The actor is GROVE_ACTOR, else `fallbackActor()` (the MCP
   * client's name), else git's user.email, read once.
   */
  static readonly live = (actor: string | undefined, fallbackActor: () => string | undefined) =>
    Layer.effect(
      GitContext,
      Effect.gen(function*() {
        const git = yield* Git
        const repository = yield* Repository
        const gitActor = yield* Effect.cached(Effect.flatMap(repository.paths, (p) => actorOf(git, p, undefined)))
        const resolve = Effect.gen(function*() {
          const paths = yield* git.repositoryPaths(repository.cwd)
          return contextOf(paths, actor || fallbackActor() || (yield* gitActor))
        })
        return { resolve }
      })
    )
}

/** The given actor, else git's user.email (from the config files when they answer plainly, ../git/ConfigFiles.ts), else user@host. */
const actorOf = (git: typeof Git.Service, paths: RepositoryPaths, given: string | undefined) => {
  if (given) return Effect.succeed(given)
  const email = readConfigValue(paths.commonDir, "user", "email")
  return Effect.map(
    email === undefined ? Effect.map(git.run(paths.worktree, ["config", "user.email"]), (r) => r.stdout.trim()) : Effect.succeed(email),
    (found) => found || `${NodeOs.userInfo().username}@${NodeOs.hostname()}`
  )
}

const contextOf = (paths: RepositoryPaths, actor: string): WriteContext => ({
  stream: streamOf(paths.gitDir, paths.head),
  worktree: paths.worktree,
  head: paths.head,
  actor
})
