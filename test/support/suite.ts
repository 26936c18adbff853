/** Per-file fixtures for bun:test suites: the neutral environment, and temp repositories and dirs removed after use. */
import { afterAll, afterEach, beforeAll } from "bun:test"
import { Effect } from "effect"
import { inWorktree } from "./effect.ts"
import { neutralizeEnv } from "./env.ts"
import { makeRepo, makeTempDir, removeTempDir, type TestRepo } from "./repo.ts"

/**
 * For the calling file (or describe block): process.env neutral (env.ts) from
 * before its first test until after its last, for grove services run in-process.
 */
export const isolateEnv = (): void => {
  let restore = () => {}
  beforeAll(() => {
    restore = neutralizeEnv()
  })
  afterAll(() => restore())
}

export interface Scratch {
  /** A fresh repository (makeRepo). */
  readonly repo: () => TestRepo
  /** A fresh temp dir outside any repository. */
  readonly dir: () => string
}

/** Temp repositories and dirs for the calling file, removed after each test or after the file's last one. */
export const scratch = (removeAfter: "each" | "all"): Scratch => {
  const made: Array<() => void> = []
  ;(removeAfter === "each" ? afterEach : afterAll)(() => {
    for (const remove of made.splice(0)) remove()
  })
  return {
    repo: () => {
      const r = makeRepo()
      made.push(r.cleanup)
      return r
    },
    dir: () => {
      const d = makeTempDir()
      made.push(() => removeTempDir(d))
      return d
    }
  }
}

/**
 * One repository for the calling file, in a neutral environment: its database
 * is created and migrated before the first test (so tests can read it
 * directly) and everything is removed after the last.
 */
export const fileRepo = (): TestRepo => {
  isolateEnv()
  const repo = scratch("all").repo()
  beforeAll(() => inWorktree(repo.root, Effect.void), 60_000)
  return repo
}
