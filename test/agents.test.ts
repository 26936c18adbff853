/**
 * The proof of issue 13: six agents in three worktrees (six processes racing
 * on the one database) run next --claim / note / done until an epic of 60
 * tasks with dependencies is finished. Every task is done exactly once, by
 * the agent that claimed it, never before its dependencies, and the live
 * tables equal a replay of the log.
 */
import { expect, it } from "bun:test"
import { spawn } from "bun"
import { Effect } from "effect"
import * as NodePath from "node:path"
import { Bulk } from "../src/tracker/Bulk.ts"
import { Tracker } from "../src/tracker/Tracker.ts"
import { childEnv, eventsAfter, fileRepo, grove, inWorktree, seededRandom, withDb } from "./support/index.ts"

const repo = fileRepo()

const worker = NodePath.resolve(import.meta.dir, "support", "agentWorker.ts")

it("6 agents in 3 worktrees finish a 60-task epic: each task done once, by its claimer, after its dependencies; verify identical", async () => {
  const root = repo.root
  const worktrees = [repo.addWorktree("agent-a"), repo.addWorktree("agent-b"), repo.addWorktree("agent-c")]
  const rng = seededRandom(13)
  const epic = await inWorktree(root, Effect.gen(function*() {
    const epic = yield* (yield* Tracker).create("epic", undefined, { title: "sixty" })
    yield* (yield* Bulk).createMany("task", epic.id, Array.from({ length: 60 }, (_, i) => ({ line: i + 1, value: { title: `task ${i}` } })))
    return epic
  }))
  const ids = withDb(repo.db, (db) => (db.query("SELECT id FROM tasks WHERE epic_id = ? ORDER BY created_clock").all(epic.id) as Array<{ id: string }>).map((r) => r.id))
  expect(ids).toHaveLength(60)
  // A random DAG: each task after the first few depends on up to 3 earlier ones.
  const edges: Array<[string, string]> = []
  for (let i = 3; i < ids.length; i++) {
    const targets = new Set(Array.from({ length: rng.int(4) }, () => ids[rng.int(i)]!))
    for (const t of targets) edges.push([ids[i]!, t])
  }
  await inWorktree(root, Effect.flatMap(Tracker, (t) => Effect.forEach(edges, ([s, d]) => t.addDependency(s, d))))
  const startSeq = withDb(repo.db, (db) => (db.query("SELECT max(seq) AS n FROM events").get() as { n: number }).n)

  const agents = worktrees.flatMap((cwd, w) => [0, 1].map((i) => ({ cwd, owner: `agent-${w}${i}` })))
  const runs = await Promise.all(agents.map(async ({ cwd, owner }) => {
    const p = spawn([process.execPath, worker, epic.id, owner], { cwd, env: childEnv(), stdout: "pipe", stderr: "pipe" })
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
    return { owner, code, err, finished: out.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { owner: string; task: string; changed: boolean }) }
  }))
  for (const r of runs) expect({ owner: r.owner, code: r.code, err: r.code === 0 ? "" : r.err }).toEqual({ owner: r.owner, code: 0, err: "" })

  // Every task finished exactly once, each by one agent, and every finish changed something.
  const finished = runs.flatMap((r) => r.finished)
  expect(finished.map((f) => f.task).sort()).toEqual([...ids].sort())
  expect(finished.every((f) => f.changed)).toBe(true)
  // Work was shared: more than one agent finished tasks.
  expect(runs.filter((r) => r.finished.length > 0).length).toBeGreaterThan(1)

  const log = eventsAfter(repo.db, startSeq)
  const doneAt = new Map<string, number>()
  const claimedAt = new Map<string, { seq: number; owner: string }>()
  for (const e of log) {
    const p = JSON.parse(e.payload)
    if (e.op === "task.updated" && p.status === "done") {
      expect({ task: e.entity_id, doneBefore: doneAt.has(e.entity_id) }).toEqual({ task: e.entity_id, doneBefore: false })
      doneAt.set(e.entity_id, e.seq)
    }
    if (e.op === "task.claimed") {
      expect({ task: e.entity_id, claimedBefore: claimedAt.has(e.entity_id) }).toEqual({ task: e.entity_id, claimedBefore: false })
      claimedAt.set(e.entity_id, { seq: e.seq, owner: p.owner })
    }
  }
  expect(doneAt.size).toBe(60)
  // The agent that finished a task is the one that claimed it.
  for (const f of finished) expect({ task: f.task, claimer: claimedAt.get(f.task)?.owner }).toEqual({ task: f.task, claimer: f.owner })
  // No dependency violated: a task was claimed only after each of its dependencies was done.
  for (const [source, target] of edges) {
    expect({ source, target, claimedAfterDone: claimedAt.get(source)!.seq > doneAt.get(target)! })
      .toEqual({ source, target, claimedAfterDone: true })
  }
  // Each task carries the note its agent wrote, with the worktree it worked in.
  const notes = withDb(repo.db, (db) => db.query("SELECT n.entity_id AS task, n.author, t.worktree FROM notes n JOIN events e ON e.id = n.id JOIN transactions t ON t.id = e.tx_id").all() as Array<{ task: string; author: string; worktree: string }>)
  expect(notes).toHaveLength(60)
  for (const n of notes) expect(n.author).toBe(claimedAt.get(n.task)!.owner)
  expect(new Set(notes.map((n) => n.worktree))).toEqual(new Set(worktrees))

  const verify = grove(root, ["verify", "--json"])
  expect(verify.exitCode).toBe(0)
  expect(verify.json.data.identical).toBe(true)
  const progress = grove(root, ["epic", "progress", epic.id, "--json"])
  expect(progress.json.data).toMatchObject({ total: 60, done: 60, todo: 0, inProgress: 0, ready: 0, next: null })
}, 120_000)
