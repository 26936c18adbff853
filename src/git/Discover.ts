import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import type { RepositoryPaths } from "./Git.ts"

/** grove's own directory in a repository: its database (storage/DatabaseLocation.ts) and what it remembers beside it. */
export const groveDirectory = (commonDir: string): string => NodePath.join(commonDir, "grove")

/**
 * Where a directory sits in git, read from the files under `.git` instead of
 * spawning `git rev-parse` (a process start costs more than the rest of a
 * one-row read: docs/decisions.md, "Start-up"). It covers the layouts grove
 * meets: a main checkout, a linked worktree (a `.git` file naming its git dir,
 * whose `commondir` names the shared one), a submodule's gitfile, loose and
 * packed branch refs, an unborn branch and a detached HEAD.
 *
 * Anything else returns undefined and the caller asks git itself: variables
 * that move the repository (GIT_DIR and friends), a config that sets
 * core.worktree or core.bare or per-worktree config, the reftable ref format,
 * a symbolic branch ref, a repository another user owns (safe.directory), a
 * file-system boundary on the way up, no `.git` up to the root (git then says
 * why).
 */
export const discoverRepository = (cwd: string, env: Readonly<Record<string, string | undefined>> = process.env): RepositoryPaths | undefined => {
  if (movingVariables.some((name) => env[name] !== undefined)) return undefined
  try {
    const found = findDotGit(NodeFs.realpathSync(cwd))
    if (found === undefined) return undefined
    const { worktree, gitDir } = found
    const commonDir = NodeFs.realpathSync(readCommonDir(gitDir))
    if (unusualConfig(NodeFs.readFileSync(NodePath.join(commonDir, "config"), "utf8"))) return undefined
    if (NodeFs.existsSync(NodePath.join(commonDir, "reftable"))) return undefined
    const head = resolveHead(gitDir, commonDir)
    return head === false ? undefined : { commonDir, gitDir, worktree, head }
  } catch {
    return undefined
  }
}

/** Variables with which git finds the repository elsewhere than by walking up from the directory. */
const movingVariables = ["GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM"]

/**
 * The nearest `.git` at or above `start`: the work tree's top and its own git
 * dir (resolved). Like git, it does not cross into another file system.
 */
const findDotGit = (start: string): { readonly worktree: string; readonly gitDir: string } | undefined => {
  const device = NodeFs.statSync(start).dev
  const uid = process.getuid?.()
  for (let dir = start; ; dir = NodePath.dirname(dir)) {
    if (NodeFs.statSync(dir).dev !== device) return undefined
    const dotGit = NodePath.join(dir, ".git")
    const stat = NodeFs.statSync(dotGit, { throwIfNoEntry: false })
    if (stat !== undefined && stat.uid !== uid) return undefined
    if (stat?.isDirectory()) return { worktree: dir, gitDir: NodeFs.realpathSync(dotGit) }
    if (stat?.isFile()) {
      const line = /^gitdir: (.+)$/m.exec(NodeFs.readFileSync(dotGit, "utf8"))?.[1]?.trim()
      return line === undefined ? undefined : { worktree: dir, gitDir: NodeFs.realpathSync(NodePath.resolve(dir, line)) }
    }
    if (NodePath.dirname(dir) === dir) return undefined
  }
}

/** A linked worktree's git dir names the shared one in `commondir` (relative to itself); otherwise it is its own. */
const readCommonDir = (gitDir: string): string => {
  const file = NodePath.join(gitDir, "commondir")
  return NodeFs.existsSync(file) ? NodePath.resolve(gitDir, NodeFs.readFileSync(file, "utf8").trim()) : gitDir
}

/** `worktree =`, `bare = true` or per-worktree config files change what git reports; leave those to git. */
const unusualConfig = (config: string): boolean =>
  /^\s*worktree\s*=/im.test(config) || /^\s*bare\s*=\s*true\b/im.test(config) || /^\s*worktreeconfig\s*=\s*true\b/im.test(config)

const sha = /^[0-9a-f]{40}([0-9a-f]{24})?$/

/** HEAD's commit, null on an unborn branch, false when the layout is one to leave to git. */
const resolveHead = (gitDir: string, commonDir: string): string | null | false => {
  const head = NodeFs.readFileSync(NodePath.join(gitDir, "HEAD"), "utf8").trim()
  if (sha.test(head)) return head
  if (!head.startsWith("ref: refs/heads/")) return false
  return readBranchRef(commonDir, head.slice("ref: ".length))
}

/** A ref under refs/ (loose, else in packed-refs): its commit, null when absent, false when the file is one to leave to git. */
export const readBranchRef = (commonDir: string, ref: string): string | null | false => {
  const loose = NodePath.join(commonDir, ref)
  if (NodeFs.existsSync(loose)) {
    const value = NodeFs.readFileSync(loose, "utf8").trim()
    return sha.test(value) ? value : false
  }
  const packed = NodePath.join(commonDir, "packed-refs")
  if (NodeFs.existsSync(packed)) {
    for (const line of NodeFs.readFileSync(packed, "utf8").split("\n")) {
      const space = line.indexOf(" ")
      if (space > 0 && line.slice(space + 1) === ref && sha.test(line.slice(0, space))) return line.slice(0, space)
    }
  }
  return null
}
