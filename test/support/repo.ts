/**
 * Real git repositories in temp dirs for tests and benchmarks: a checkout on
 * `main` with one commit, linked worktrees, bare remotes and clones.
 */
import { spawnSync } from "bun"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { childEnv } from "./env.ts"

// ---------------------------------------------------------------- temp dirs

const temps = new Set<string>()
const removeTemps = () => {
  for (const dir of temps) {
    try {
      NodeFs.rmSync(dir, { recursive: true, force: true })
    } catch {
      // best effort at exit
    }
  }
  temps.clear()
}
// A run that fails or is interrupted before its cleanup still leaves nothing behind.
process.on("exit", removeTemps)
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    removeTemps()
    process.exit(130)
  })
}

/** A fresh temp dir (real path, no symlinks), removed at process exit at the latest. */
export const makeTempDir = (label = "plain"): string => {
  const path = NodeFs.realpathSync(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), `grove-${label}-`)))
  temps.add(path)
  return path
}

/** Removes a dir made by makeTempDir now. */
export const removeTempDir = (path: string): void => {
  NodeFs.rmSync(path, { recursive: true, force: true })
  temps.delete(path)
}

// ---------------------------------------------------------------- git

const gitEnv = childEnv({
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.com",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.com"
})

/** Runs real git with `input` on stdin and returns stdout as bytes; throws with its stderr on failure. */
export const gitBytes = (cwd: string, input: Uint8Array | undefined, ...args: Array<string>): Buffer => {
  const r = spawnSync(["git", ...args], { cwd, env: gitEnv, stdin: input === undefined ? "ignore" : input })
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed in ${cwd}: ${r.stderr.toString()}`)
  return r.stdout
}

/** Runs real git and returns its trimmed stdout; throws with its stderr on failure. */
export const git = (cwd: string, ...args: Array<string>): string => gitBytes(cwd, undefined, ...args).toString().trim()

/** Whether `git ARGS` exits 0 (for git's yes/no questions, such as merge-base --is-ancestor). */
export const gitSucceeds = (cwd: string, ...args: Array<string>): boolean =>
  spawnSync(["git", ...args], { cwd, env: gitEnv }).exitCode === 0

// ---------------------------------------------------------------- repositories

/** grove's default database of a checkout or clone (DESIGN.md section 3: under the git common dir). */
export const dbPathOf = (root: string): string => NodePath.join(root, ".git", "grove", "grove.db")

export interface TestRepo {
  /** The main checkout. */
  readonly root: string
  /** The temp dir holding the checkout, its worktrees, remotes and clones. */
  readonly base: string
  /** The checkout's default database file (it exists once a grove command has run). */
  readonly db: string
  /** Adds a linked worktree on a new branch and returns its path. */
  readonly addWorktree: (branch: string) => string
  /** An empty bare repository `<name>.git` in base; returns its path. */
  readonly addBare: (name: string) => string
  /** A bare repository that becomes the checkout's `origin`, with `main` pushed to it; returns its path. */
  readonly addOrigin: (name?: string) => string
  /** Clones `origin` into base/<name>; returns the clone's path. */
  readonly addClone: (name: string) => string
  /** Removes base and everything in it. */
  readonly cleanup: () => void
}

/** A real repository with one commit on `main`, in a fresh temp dir (grove-<label>-*). */
export const makeRepo = (label = "test"): TestRepo => {
  const base = makeTempDir(label)
  const root = NodePath.join(base, "repo")
  NodeFs.mkdirSync(root)
  git(root, "init", "-q", "-b", "main")
  git(root, "config", "user.email", "dev@example.com")
  git(root, "config", "user.name", "Dev")
  NodeFs.writeFileSync(NodePath.join(root, "README"), "test\n")
  git(root, "add", "README")
  git(root, "commit", "-q", "-m", "initial")
  const addBare = (name: string) => {
    const path = NodePath.join(base, `${name}.git`)
    git(base, "init", "-q", "--bare", "-b", "main", path)
    return path
  }
  return {
    root,
    base,
    db: dbPathOf(root),
    addWorktree: (branch) => {
      const path = NodePath.join(base, branch.replace(/\//g, "-"))
      git(root, "worktree", "add", "-q", "-b", branch, path)
      return path
    },
    addBare,
    addOrigin: (name = "remote") => {
      const path = addBare(name)
      git(root, "remote", "add", "origin", path)
      git(root, "push", "-q", "origin", "main")
      return path
    },
    addClone: (name) => {
      const path = NodePath.join(base, name)
      git(base, "clone", "-q", git(root, "remote", "get-url", "origin"), path)
      return path
    },
    cleanup: () => removeTempDir(base)
  }
}
