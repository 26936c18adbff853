/**
 * The board's pure pieces: the graph layout with its longest remaining chain,
 * and the parser of `git worktree list --porcelain` (fed real git output).
 */
import { afterAll, describe, expect, test } from "bun:test"
import * as NodeFs from "node:fs"
import { layout } from "../src/board/Graph.ts"
import { parseWorktreeList } from "../src/board/Worktrees.ts"
import { git, makeRepo } from "./support/repo.ts"

const node = (id: string, status: "todo" | "in_progress" | "done" | "blocked" = "todo") => ({ id, kind: "task" as const, title: id, status, external: 0 })

describe("graph layout", () => {
  test("the longest remaining chain skips done work and runs first prerequisite first", () => {
    // a <- b <- c <- d (d depends on c ...), and x <- d: a is done, so the remaining chain is b, c, d.
    const g = layout(
      [node("a", "done"), node("b", "in_progress"), node("c"), node("d"), node("x")],
      [{ source: "b", target: "a" }, { source: "c", target: "b" }, { source: "d", target: "c" }, { source: "d", target: "x" }]
    )
    expect(g.chain).toEqual(["b", "c", "d"])
    expect(g.edges.filter((e) => e.onChain).map((e) => `${e.source}>${e.target}`)).toEqual(["c>b", "d>c"])
    expect(Object.fromEntries(g.nodes.map((n) => [n.id, [n.level, n.state, n.onChain]]))).toEqual({
      a: [0, "done", false],
      b: [1, "in_progress", true],
      c: [2, "blocked", true],
      d: [3, "blocked", true],
      x: [0, "ready", false]
    })
  })

  test("rows count up within a level; with everything done there is no chain", () => {
    const g = layout([node("a", "done"), node("b", "done"), node("c", "done")], [{ source: "c", target: "a" }])
    expect(g.chain).toEqual([])
    expect(g.nodes.map((n) => [n.id, n.level, n.row])).toEqual([["a", 0, 0], ["b", 0, 1], ["c", 1, 0]])
  })
})

describe("git worktree list --porcelain", () => {
  const repo = makeRepo()
  afterAll(() => repo.cleanup())

  test("main, a branch worktree and a detached one, with a prunable entry", () => {
    const feat = repo.addWorktree("feat")
    const detached = `${repo.base}/detached`
    git(repo.root, "worktree", "add", "-q", "--detach", detached)
    const gone = repo.addWorktree("gone")
    git(repo.root, "worktree", "lock", gone) // stays listed after its directory is removed
    NodeFs.rmSync(gone, { recursive: true, force: true })
    const head = git(repo.root, "rev-parse", "HEAD")
    const listed = parseWorktreeList(git(repo.root, "worktree", "list", "--porcelain"))
    expect(listed.map((w) => ({ path: w.path, branch: w.branch, head: w.head }))).toEqual([
      { path: repo.root, branch: "main", head },
      // git lists linked worktrees by path
      { path: detached, branch: null, head },
      { path: feat, branch: "feat", head },
      { path: gone, branch: "gone", head }
    ])
    expect(listed.map((w) => w.prunable)).toEqual([false, false, false, false])
    git(repo.root, "worktree", "unlock", gone)
    expect(parseWorktreeList(git(repo.root, "worktree", "list", "--porcelain")).at(-1)).toMatchObject({ path: gone, prunable: true })
  })
})
