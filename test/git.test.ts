import { describe, expect, it } from "bun:test"
import { Effect } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { readConfigValue } from "../src/git/ConfigFiles.ts"
import { systemConfigFile } from "../src/git/SystemConfigFile.ts"
import { discoverRepository } from "../src/git/Discover.ts"
import { Git } from "../src/git/Git.ts"
import { branchExists } from "../src/sync/SourceBranch.ts"
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

/**
 * Reading user.email from the config files (src/git/ConfigFiles.ts) must give
 * exactly what `git config user.email` prints whenever it answers, and hand
 * every layout it does not read over to git (undefined).
 */
describe("readConfigValue", () => {
  /** `git config user.email` in the repository with only `env` (plus PATH): what the reader must match. */
  const gitSays = (cwd: string, env: Record<string, string>) =>
    Bun.spawnSync(["git", "config", "user.email"], { cwd, env: { PATH: process.env["PATH"] ?? "", ...env } }).stdout.toString().trim()

  const setup = () => {
    const r = temp.repo()
    const home = temp.dir()
    const commonDir = NodePath.join(r.root, ".git")
    const local = NodePath.join(commonDir, "config")
    const base = NodeFs.readFileSync(local, "utf8").replace(/\[user\][^[]*/, "")
    return { r, home, commonDir, local, base }
  }

  it("matches git for values set in the XDG file, ~/.gitconfig, GIT_CONFIG_GLOBAL and the repository, the last one winning", () => {
    const { r, home, commonDir, local, base } = setup()
    const xdg = NodePath.join(home, ".config", "git")
    NodeFs.mkdirSync(xdg, { recursive: true })
    const cases: Array<{ scenario: string; xdg?: string; home?: string; local: string; env?: Record<string, string> }> = [
      { scenario: "only ~/.gitconfig", home: "[user]\n\temail = home@example.com\n", local: base },
      { scenario: "only the XDG file", xdg: "[user]\nemail=xdg@example.com\n", local: base },
      { scenario: "~/.gitconfig over the XDG file", xdg: "[user]\nemail=xdg@example.com\n", home: "[User]\n  EMAIL = home@example.com  \n", local: base },
      { scenario: "the repository over the global files", home: "[user]\nemail = home@example.com\n", local: `${base}[user]\n\temail = local@example.com\n` },
      { scenario: "the last of two entries, comments and other sections between", home: "# c\n[user]\nemail = a@x\n; c\n[user \"sub\"]\nemail = sub@x\n[core]\neditor = vi\n[user]\nemail = b@x\n", local: base },
      { scenario: "inner tabs become spaces", home: "[user]\nemail = a\tb@x\n", local: base },
      { scenario: "an empty value", home: "[user]\nemail =\n", local: base },
      { scenario: "GIT_CONFIG_GLOBAL instead of the home files", home: "[user]\nemail = home@example.com\n", local: base, env: { GIT_CONFIG_GLOBAL: NodePath.join(home, "other") } }
    ]
    NodeFs.writeFileSync(NodePath.join(home, "other"), "[user]\nemail = other@example.com\n")
    for (const c of cases) {
      NodeFs.rmSync(NodePath.join(xdg, "config"), { force: true })
      NodeFs.rmSync(NodePath.join(home, ".gitconfig"), { force: true })
      if (c.xdg !== undefined) NodeFs.writeFileSync(NodePath.join(xdg, "config"), c.xdg)
      if (c.home !== undefined) NodeFs.writeFileSync(NodePath.join(home, ".gitconfig"), c.home)
      NodeFs.writeFileSync(local, c.local)
      const env = { HOME: home, GIT_CONFIG_NOSYSTEM: "1", ...c.env }
      const read = readConfigValue(commonDir, "user", "email", env)
      if (read === undefined) throw new Error(`${c.scenario}: the reader handed over to git, expected it to read ${JSON.stringify(gitSays(r.root, env))}`)
      expect({ scenario: c.scenario, read }).toEqual({ scenario: c.scenario, read: gitSays(r.root, env) })
    }
  })

  it("hands over to git for includes, quoting, continued lines, inline comments, per-worktree config, config variables and a value set nowhere", () => {
    const { home, commonDir, local, base } = setup()
    const env = { HOME: home }
    const handedOver = (scenario: string, gitconfig: string, localConfig = base, extra: Record<string, string> = {}) => {
      NodeFs.writeFileSync(NodePath.join(home, ".gitconfig"), gitconfig)
      NodeFs.writeFileSync(local, localConfig)
      expect({ scenario, read: readConfigValue(commonDir, "user", "email", { ...env, ...extra }) }).toEqual({ scenario, read: undefined })
    }
    const plain = "[user]\nemail = a@x\n"
    handedOver("an include", `${plain}[include]\npath = other\n`)
    handedOver("an includeIf", `${plain}[includeIf "gitdir:/x/"]\npath = other\n`)
    handedOver("a quoted value", "[user]\nemail = \"a@x\"\n")
    handedOver("a value continued on the next line", "[user]\nemail = a\\\n@x\n")
    handedOver("an inline comment", "[user]\nemail = a@x # me\n")
    handedOver("an old-style header", "[user.sub]\nemail = a@x\n")
    handedOver("per-worktree config", plain, `${base}[extensions]\nworktreeConfig = true\n`)
    handedOver("GIT_CONFIG_COUNT", plain, base, { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "user.email", GIT_CONFIG_VALUE_0: "env@x" })
    handedOver("a relative GIT_CONFIG_GLOBAL", plain, base, { GIT_CONFIG_GLOBAL: "rel" })
    handedOver("a value set nowhere, git not on PATH (the system file's place unknown)", "[core]\neditor = vi\n")
  })

  it("matches git for values set in the system file, under the global and repository ones, and set nowhere", () => {
    const { r, home, commonDir, local, base } = setup()
    const system = NodePath.join(home, "system")
    const cases: Array<{ scenario: string; system?: string; home?: string; local: string; env?: Record<string, string> }> = [
      { scenario: "only the system file", system: "[user]\nemail = system@example.com\n", local: base },
      { scenario: "~/.gitconfig over the system file", system: "[user]\nemail = system@example.com\n", home: "[user]\nemail = home@example.com\n", local: base },
      { scenario: "the repository over the system file", system: "[user]\nemail = system@example.com\n", local: `${base}[user]\n\temail = local@example.com\n` },
      { scenario: "set nowhere, the system file absent", local: base },
      { scenario: "set nowhere, the system file without it", system: "[core]\neditor = vi\n", local: base },
      { scenario: "set nowhere, no system file read", system: "[user]\nemail = system@example.com\n", local: base, env: { GIT_CONFIG_NOSYSTEM: "true" } }
    ]
    for (const c of cases) {
      NodeFs.rmSync(system, { force: true })
      NodeFs.rmSync(NodePath.join(home, ".gitconfig"), { force: true })
      if (c.system !== undefined) NodeFs.writeFileSync(system, c.system)
      if (c.home !== undefined) NodeFs.writeFileSync(NodePath.join(home, ".gitconfig"), c.home)
      NodeFs.writeFileSync(local, c.local)
      const env = { HOME: home, PATH: process.env["PATH"] ?? "", GIT_CONFIG_SYSTEM: system, ...c.env }
      const read = readConfigValue(commonDir, "user", "email", env)
      if (read === undefined) throw new Error(`${c.scenario}: the reader handed over to git, expected it to read ${JSON.stringify(gitSays(r.root, env))}`)
      expect({ scenario: c.scenario, read }).toEqual({ scenario: c.scenario, read: gitSays(r.root, env) })
    }
  })
})

/**
 * The system file's place (src/git/SystemConfigFile.ts) is learnt from git
 * once and remembered under `<common dir>/grove/` for the git binary on PATH.
 */
describe("systemConfigFile", () => {
  it("learns the place from git, remembers it for the same binary, and learns it again for another", () => {
    const r = temp.repo()
    const commonDir = NodePath.join(r.root, ".git")
    NodeFs.mkdirSync(NodePath.join(commonDir, "grove"), { recursive: true })
    const memoPath = NodePath.join(commonDir, "grove", "git-system-config.json")
    const env = { HOME: temp.dir(), PATH: process.env["PATH"] ?? "" }
    const learnt = systemConfigFile(commonDir, env)
    // git opens this path when asked to edit its system file; the reader must name the same one.
    const opened = Bun.spawnSync(["git", "config", "--system", "--edit"], { env: { ...env, GIT_EDITOR: "echo" } }).stdout.toString().trim()
    expect({ learnt, remembered: JSON.parse(NodeFs.readFileSync(memoPath, "utf8")).file }).toEqual({ learnt: opened, remembered: opened })

    // A remembered place is used as it is: point it at a file of our own, and the value comes from there.
    const own = NodePath.join(temp.dir(), "gitconfig")
    NodeFs.writeFileSync(own, "[init]\n\tdefaultBranch = remembered\n")
    const memo = JSON.parse(NodeFs.readFileSync(memoPath, "utf8"))
    NodeFs.writeFileSync(memoPath, JSON.stringify({ ...memo, file: own }))
    expect(readConfigValue(commonDir, "init", "defaultBranch", env)).toBe("remembered")

    // Another binary (an upgraded git: another modification time) is asked again.
    NodeFs.writeFileSync(memoPath, JSON.stringify({ ...memo, file: own, mtimeMs: memo.mtimeMs - 1 }))
    expect(systemConfigFile(commonDir, env)).toBe(opened)
    expect(JSON.parse(NodeFs.readFileSync(memoPath, "utf8"))).toEqual(memo)
  })

  it("is null under GIT_CONFIG_NOSYSTEM, the given file under GIT_CONFIG_SYSTEM, and unknown when git cannot be found or the variables are unclear", () => {
    const commonDir = NodePath.join(temp.repo().root, ".git")
    const PATH = process.env["PATH"] ?? ""
    const cases: Array<[string, Record<string, string>, string | null | undefined]> = [
      ["GIT_CONFIG_NOSYSTEM=1", { PATH, GIT_CONFIG_NOSYSTEM: "1" }, null],
      ["GIT_CONFIG_NOSYSTEM=yes", { PATH, GIT_CONFIG_NOSYSTEM: "yes" }, null],
      ["GIT_CONFIG_NOSYSTEM=maybe", { PATH, GIT_CONFIG_NOSYSTEM: "maybe" }, undefined],
      ["GIT_CONFIG_SYSTEM absolute", { PATH, GIT_CONFIG_SYSTEM: "/x/gitconfig" }, "/x/gitconfig"],
      ["GIT_CONFIG_SYSTEM relative", { PATH, GIT_CONFIG_SYSTEM: "gitconfig" }, undefined],
      ["no git on PATH", { PATH: "" }, undefined]
    ]
    for (const [scenario, env, expected] of cases) expect({ scenario, file: systemConfigFile(commonDir, env) }).toEqual({ scenario, file: expected })
  })
})

describe("branchExists", () => {
  const exists = (cwd: string, branch: string) => Effect.runSync(Effect.provide(branchExists(cwd, branch), Git.layer))
  const showRef = (cwd: string, branch: string) =>
    Bun.spawnSync(["git", "show-ref", "--verify", "-q", `refs/heads/${branch}`], { cwd }).exitCode === 0

  it("matches git show-ref for loose and packed branches, absent ones, a folder of branches and names git rejects", () => {
    const r = temp.repo()
    const feat = r.addWorktree("feat/x")
    git(r.root, "branch", "packed")
    git(r.root, "pack-refs")
    git(r.root, "branch", "loose")
    const names = ["main", "loose", "packed", "feat/x", "feat", "absent", "a/../main", "main.lock", "-x"]
    for (const cwd of [r.root, feat]) {
      for (const name of names) expect({ cwd, name, exists: exists(cwd, name) }).toEqual({ cwd, name, exists: showRef(cwd, name) })
    }
  })
})
