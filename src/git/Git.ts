import { Context, Effect, Layer } from "effect"
import { GroveError } from "../errors/index.ts"
import { discoverRepository } from "./Discover.ts"

export class GitFailed extends GroveError("GitFailed", "git_failed") {}
export class NotARepository extends GroveError("NotARepository", "not_a_repository") {}

export interface GitResult {
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
  /** stdout as bytes (blob contents are sized in bytes). */
  readonly bytes: Uint8Array
}

/** Where a directory sits in git: the shared common dir, its own git dir, work tree and HEAD commit. */
export interface RepositoryPaths {
  readonly commonDir: string
  readonly gitDir: string
  readonly worktree: string
  /** null on an unborn branch (no commit yet). */
  readonly head: string | null
}

/**
 * Runs git as a child process (real git, never mocked). It spawns with
 * Bun.spawnSync rather than @effect/platform's Command: a `git rev-parse`
 * costs about 1.3 ms that way against 5-12 ms through the Command executor's
 * streams (measured here). Locating the repository reads `.git` directly and
 * spawns nothing in the common case (docs/decisions.md, "Start-up").
 */
export class Git extends Context.Tag("grove/Git")<Git, {
  /** Runs `git args` in cwd, with `input` on stdin; a non-zero exit is returned, not failed. */
  readonly run: (cwd: string, args: ReadonlyArray<string>, input?: string | Uint8Array) => Effect.Effect<GitResult, GitFailed>
  /** Read from the files under `.git` in the common case (./Discover.ts), else one git call; fails with NotARepository outside a work tree. */
  readonly repositoryPaths: (cwd: string) => Effect.Effect<RepositoryPaths, NotARepository | GitFailed>
}>() {
  static readonly layer = Layer.sync(
    Git,
    () => {
      const run = (cwd: string, args: ReadonlyArray<string>, input?: string | Uint8Array) =>
        Effect.try({
          try: () => {
            const stdin = input === undefined ? "ignore" : typeof input === "string" ? new TextEncoder().encode(input) : input
            const r = Bun.spawnSync(["git", ...args], { cwd, stdin, stdout: "pipe", stderr: "pipe" })
            return { exitCode: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString(), bytes: r.stdout }
          },
          catch: (cause) =>
            new GitFailed({ message: `could not run git ${args.join(" ")}: ${String(cause)}`, details: { cwd } })
        })
      const revParse = (cwd: string, withHead: boolean) =>
        run(cwd, [
          "rev-parse",
          "--path-format=absolute",
          "--git-common-dir",
          "--git-dir",
          "--show-toplevel",
          ...(withHead ? ["HEAD"] : [])
        ]).pipe(Effect.map((r) => ({ ...r, lines: r.stdout.trim().split("\n") })))
      const repositoryPaths = (cwd: string) =>
        Effect.gen(function*() {
          const discovered = discoverRepository(cwd)
          if (discovered !== undefined) return discovered
          const withHead = yield* revParse(cwd, true)
          // On an unborn branch `HEAD` does not resolve; ask again without it to tell that from "not a repository".
          const r = withHead.exitCode === 0 ? withHead : yield* revParse(cwd, false)
          const [commonDir, gitDir, worktree, head] = r.lines
          if (r.exitCode !== 0 || !commonDir || !gitDir || !worktree) {
            return yield* new NotARepository({
              message: `${cwd} is not inside a git work tree: grove stamps every change with its branch and worktree, so run it inside a repository (GROVE_DB only moves the database, and lets reads work elsewhere)`,
              details: { cwd, git: r.stderr.trim() }
            })
          }
          return { commonDir, gitDir, worktree, head: r === withHead && head ? head : null }
        })
      return { run, repositoryPaths }
    }
  )
}
