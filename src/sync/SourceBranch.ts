import { Effect } from "effect"
import { Git } from "../git/Git.ts"

/**
 * The repository's default branch, the default source of `sync status` and
 * `sync pull`: origin/HEAD, else init.defaultBranch, else main or master.
 */
export const defaultBranch = (cwd: string) =>
  Effect.gen(function*() {
    const git = yield* Git
    const originHead = yield* git.run(cwd, ["symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD"])
    if (originHead.exitCode === 0 && originHead.stdout.trim() !== "") return originHead.stdout.trim().replace(/^origin\//, "")
    const configured = yield* git.run(cwd, ["config", "init.defaultBranch"])
    if (configured.exitCode === 0 && configured.stdout.trim() !== "") return configured.stdout.trim()
    const main = yield* git.run(cwd, ["show-ref", "--verify", "-q", "refs/heads/main"])
    return main.exitCode === 0 ? "main" : "master"
  })

/** Whether `branch` is a local branch of the repository. */
export const branchExists = (cwd: string, branch: string) =>
  Effect.map(Effect.flatMap(Git, (git) => git.run(cwd, ["show-ref", "--verify", "-q", `refs/heads/${branch}`])), (r) => r.exitCode === 0)
