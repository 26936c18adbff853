import { Context, Effect, Layer } from "effect"
import { Git, type GitFailed, type NotARepository, type RepositoryPaths } from "./Git.ts"

/**
 * The repository the command runs in. Inspected lazily and at most once per
 * command: reads with GROVE_DB set never call git, writes call it once.
 */
export class Repository extends Context.Tag("grove/Repository")<Repository, {
  readonly cwd: string
  readonly paths: Effect.Effect<RepositoryPaths, NotARepository | GitFailed>
}>() {
  static readonly fromCwd = (cwd: string) =>
    Layer.effect(
      Repository,
      Effect.gen(function*() {
        const git = yield* Git
        return { cwd, paths: yield* Effect.cached(git.repositoryPaths(cwd)) }
      })
    )
}
