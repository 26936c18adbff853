import { Effect } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { readConfigValue } from "../git/ConfigFiles.ts"
import { discoverRepository, readBranchRef } from "../git/Discover.ts"
import { Git } from "../git/Git.ts"

/**
 * The repository's default branch, the default source of `sync status` and
 * `sync pull`: origin/HEAD, else init.defaultBranch, else main or master.
 * Each question is answered from the files under `.git` and the config files
 * when they answer plainly (a git process costs more than the rest of a
 * `sync status`: docs/decisions.md, "Start-up"), else by git.
 */
export const defaultBranch = (cwd: string) =>
  Effect.gen(function*() {
    const git = yield* Git
    const files = discoverRepository(cwd)
    // A symbolic ref is never packed: without its file there is no origin/HEAD (reftable repositories are not discovered).
    const noOriginHead = files !== undefined && !NodeFs.existsSync(NodePath.join(files.commonDir, "refs", "remotes", "origin", "HEAD"))
    if (!noOriginHead) {
      const originHead = yield* git.run(cwd, ["symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD"])
      if (originHead.exitCode === 0 && originHead.stdout.trim() !== "") return originHead.stdout.trim().replace(/^origin\//, "")
    }
    const read = files === undefined ? undefined : readConfigValue(files.commonDir, "init", "defaultBranch")
    const configured = read ?? (yield* git.run(cwd, ["config", "init.defaultBranch"])).stdout.trim()
    if (configured !== "") return configured
    return (yield* branchExists(cwd, "main")) ? "main" : "master"
  })

/** A branch name whose ref path means itself (no dots, no empty parts): only those are looked up in the files. */
const plainBranch = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/

/** Whether `branch` is a local branch of the repository. */
export const branchExists = (cwd: string, branch: string) =>
  Effect.gen(function*() {
    const files = plainBranch.test(branch) ? discoverRepository(cwd) : undefined
    if (files !== undefined) {
      const found = readRef(files.commonDir, `refs/heads/${branch}`)
      if (found !== false) return found !== null
    }
    const git = yield* Git
    return (yield* git.run(cwd, ["show-ref", "--verify", "-q", `refs/heads/${branch}`])).exitCode === 0
  })

/** readBranchRef, with a file that cannot be read (a directory of branches, say) left to git. */
const readRef = (commonDir: string, ref: string): string | null | false => {
  try {
    return readBranchRef(commonDir, ref)
  } catch {
    return false
  }
}
