import { describe, expect, it } from "bun:test"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { discoverRepository } from "../src/git/Discover.ts"
import { git, isolateEnv, scratch } from "./support/index.ts"

/**
 * Locating the repository from the files under `.git` (src/git/Discover.ts)
 * must report exactly what `git rev-parse` reports, and must hand every
 * layout it does not read over to git (undefined).
 */

isolateEnv()
const temp = scratch("each")

/** What git itself says for `cwd`: the reference the discovery must match. */
const revParse = (cwd: string) => {
  const [commonDir, gitDir, worktree] = git(cwd, "rev-parse", "--path-format=absolute", "--git-common-dir", "--git-dir", "--show-toplevel").split("\n")
  let head: string | null
  try {
    head = git(cwd, "rev-parse", "--verify", "-q", "HEAD")
  } catch {
    head = null
  }
  return { commonDir, gitDir, worktree, head }
}

const expectSameAsGit = (cwd: string, scenario: string) => {
  const found = discoverRepository(cwd, {})
  const expected = revParse(cwd)
  if (found === undefined) throw new Error(`${scenario}: discovery handed over to git, expected it to read ${JSON.stringify(expected)}`)
  expect({ scenario, ...found } as object).toEqual({ scenario, ...expected })
}

describe("discoverRepository", () => {
  it("matches git rev-parse in the main checkout, a subdirectory, a linked worktree and its subdirectory", () => {
    const r = temp.repo()
    const nested = NodePath.join(r.root, "a", "b")
    NodeFs.mkdirSync(nested, { recursive: true })
    const feat = r.addWorktree("feat/x")
    const featNested = NodePath.join(feat, "deep")
    NodeFs.mkdirSync(featNested)
    git(feat, "commit", "-q", "--allow-empty", "-m", "on feat")
    expectSameAsGit(r.root, "main checkout")
    expectSameAsGit(nested, "subdirectory of the main checkout")
    expectSameAsGit(feat, "linked worktree")
    expectSameAsGit(featNested, "subdirectory of a linked worktree")
  })

  it("matches git with packed refs, a detached HEAD and an unborn branch", () => {
    const r = temp.repo()
    const feat = r.addWorktree("feat")
    git(r.root, "pack-refs", "--all")
    expect(NodeFs.existsSync(NodePath.join(r.root, ".git", "refs", "heads", "main"))).toBe(false)
    expectSameAsGit(r.root, "branch only in packed-refs")
    expectSameAsGit(feat, "linked worktree's branch only in packed-refs")
    git(feat, "checkout", "-q", "--detach")
    expectSameAsGit(feat, "detached HEAD")
    git(r.root, "checkout", "-q", "--orphan", "fresh")
    const unborn = discoverRepository(r.root, {})
    expect(unborn?.head).toBeNull()
    expectSameAsGit(r.root, "unborn branch")
  })

  it("hands over to git when a variable moves the repository, when the config sets core.worktree or core.bare, and outside any repository", () => {
    const r = temp.repo()
    expect(discoverRepository(r.root, { GIT_DIR: NodePath.join(r.root, ".git") })).toBeUndefined()
    expect(discoverRepository(r.root, { GIT_WORK_TREE: r.root })).toBeUndefined()
    expect(discoverRepository(r.root, { GIT_CEILING_DIRECTORIES: r.base })).toBeUndefined()
    git(r.root, "config", "core.worktree", r.root)
    expect(discoverRepository(r.root, {})).toBeUndefined()
    git(r.root, "config", "--unset", "core.worktree")
    expectSameAsGit(r.root, "after core.worktree is unset again")
    git(r.root, "config", "core.bare", "true")
    expect(discoverRepository(r.root, {})).toBeUndefined()
    expect(discoverRepository(temp.dir(), {})).toBeUndefined()
  })
})
