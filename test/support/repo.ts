import { spawnSync } from "bun"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"

const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.com",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.com",
  GIT_CONFIG_NOSYSTEM: "1"
}

/** Runs real git; throws with its stderr on failure. */
export const git = (cwd: string, ...args: Array<string>): string => {
  const r = spawnSync(["git", ...args], { cwd, env: gitEnv })
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed in ${cwd}: ${r.stderr.toString()}`)
  return r.stdout.toString().trim()
}

export interface TestRepo {
  /** The main checkout. */
  readonly root: string
  /** The temp dir holding the checkout and its worktrees. */
  readonly base: string
  /** Adds a linked worktree on a new branch and returns its path. */
  readonly addWorktree: (branch: string) => string
  readonly cleanup: () => void
}

/** A real repository with one commit on `main`, in a fresh temp dir. */
export const makeRepo = (): TestRepo => {
  const base = NodeFs.realpathSync(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "grove-test-")))
  const root = NodePath.join(base, "repo")
  NodeFs.mkdirSync(root)
  git(root, "init", "-q", "-b", "main")
  git(root, "config", "user.email", "dev@example.com")
  git(root, "config", "user.name", "Dev")
  NodeFs.writeFileSync(NodePath.join(root, "README"), "test\n")
  git(root, "add", "README")
  git(root, "commit", "-q", "-m", "initial")
  return {
    root,
    base,
    addWorktree: (branch) => {
      const path = NodePath.join(base, branch.replace(/\//g, "-"))
      git(root, "worktree", "add", "-q", "-b", branch, path)
      return path
    },
    cleanup: () => NodeFs.rmSync(base, { recursive: true, force: true })
  }
}

/** A fresh temp dir outside any repository. */
export const makeTempDir = (): string =>
  NodeFs.realpathSync(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "grove-plain-")))
