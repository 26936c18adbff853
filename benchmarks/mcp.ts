/**
 * 6. A warm `grove mcp`: one single-item tool call (`task_show` of a random
 * task among 10,000) from the SDK's own MCP client over stdio, after a
 * warm-up, sequentially, many calls. The baseline is the same read done with
 * raw bun:sqlite in this process (the task, its subtasks, edges both ways,
 * notes and lease, then JSON.stringify). Splits: an MCP `ping` round trip (the
 * protocol and pipe floor, no grove work), and the same `showEntity` through
 * grove's services in this process (no protocol).
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { Effect } from "effect"
import { Bulk, type BulkLine } from "../src/tracker/Bulk.ts"
import { Tracker } from "../src/tracker/Tracker.ts"
import { showEntity } from "../src/projections/Detail.ts"
import { seededRandom } from "../test/support/random.ts"
import { makeRepo } from "../test/support/repo.ts"
import { type BenchContext, type BenchResult, bundleState, groveBin, groveRuntime, now, openRaw, row, stat, target } from "./harness.ts"

const taskCount = 10_000

/** The raw reads task_show makes, as prepared statements. */
const rawShow = (db: ReturnType<typeof openRaw>) => {
  const common = "id, title, description, status, version, created_clock AS createdClock, updated_clock AS updatedClock"
  const edge = "source_kind AS sk, source_id AS si, target_kind AS tk, target_id AS ti, created_clock AS c"
  const task = db.query(`SELECT 'task' AS kind, ${common}, epic_id AS epicId, owner FROM tasks WHERE id = ?`)
  const subtasks = db.query(`SELECT 'subtask' AS kind, ${common}, task_id AS taskId, owner FROM subtasks WHERE task_id = ? ORDER BY created_clock`)
  const dependsOn = db.query(`SELECT ${edge} FROM dependencies WHERE source_kind = 'task' AND source_id = ? ORDER BY created_clock`)
  const dependedOnBy = db.query(`SELECT ${edge} FROM dependencies WHERE target_kind = 'task' AND target_id = ? ORDER BY created_clock`)
  const notes = db.query(
    `SELECT n.id, n.text, n.author, n.clock, t.worktree, s.branch, s.name AS stream, t.actor
     FROM notes n JOIN events e ON e.id = n.id JOIN transactions t ON t.id = e.tx_id JOIN streams s ON s.id = e.stream_id
     WHERE n.entity_id = ? ORDER BY n.clock, n.id`
  )
  const lease = db.query("SELECT owner, lease_ms, expires_at FROM leases WHERE entity_id = ?")
  return (id: string) =>
    JSON.stringify({
      ...(task.get(id) as object),
      children: subtasks.all(id),
      dependsOn: dependsOn.all(id),
      dependedOnBy: dependedOnBy.all(id),
      lease: lease.get(id),
      notes: notes.all(id)
    })
}

export const mcpCall = async (ctx: BenchContext): Promise<BenchResult> => {
  const started = now()
  const calls = ctx.quick ? 200 : 2000
  const warmup = ctx.quick ? 50 : 300
  const repo = makeRepo("bench-mcp")
  try {
    const rt = await groveRuntime(repo.root)
    let ids: Array<string>
    try {
      const epic = (await rt.runPromise(Effect.flatMap(Tracker, (t) => t.create("epic", undefined, { title: "bench" })))).id
      const lines = Array.from({ length: taskCount }, (_, i): BulkLine => ({ line: i + 1, value: { title: `task ${i + 1}`, description: `what task ${i + 1} is about` } }))
      await rt.runPromise(Effect.flatMap(Bulk, (b) => b.createMany("task", epic, lines)))
      const db = openRaw(repo.db)
      ids = (db.query("SELECT id FROM tasks").all() as Array<{ id: string }>).map((r) => r.id)
      db.close()
      // Give some tasks dependencies, so the edge reads return rows.
      for (let i = 1; i < 200; i++) await rt.runPromise(Effect.flatMap(Tracker, (t) => t.addDependency(ids[i]!, ids[i - 1]!)))
    } catch (e) {
      await rt.dispose()
      throw e
    }
    const random = seededRandom(17)
    const pick = () => ids[random.int(ids.length)]!

    // In-process: grove's services, no protocol.
    const inProcess: Array<number> = []
    for (let i = -warmup; i < calls; i++) {
      const id = pick()
      const t0 = now()
      JSON.stringify(await rt.runPromise(showEntity("task", id)))
      if (i >= 0) inProcess.push(now() - t0)
    }
    await rt.dispose()

    // Raw bun:sqlite baseline of the same read.
    const db = openRaw(repo.db)
    const show = rawShow(db)
    const raw: Array<number> = []
    for (let i = -warmup; i < calls; i++) {
      const id = pick()
      const t0 = now()
      show(id)
      if (i >= 0) raw.push(now() - t0)
    }
    db.close()

    // A real MCP client over stdio, spawning `grove mcp` as an agent's host would.
    const bundle = bundleState()
    const transport = new StdioClientTransport({ command: process.execPath, args: [groveBin, "mcp"], cwd: repo.root, stderr: "pipe" })
    const client = new Client({ name: "grove-bench", version: "1.0.0" })
    const connectStart = now()
    await client.connect(transport)
    const connectMs = now() - connectStart
    const viaMcp: Array<number> = []
    const ping: Array<number> = []
    try {
      for (let i = -warmup; i < calls; i++) {
        const id = pick()
        const t0 = now()
        const r = await client.callTool({ name: "task_show", arguments: { id } })
        const ms = now() - t0
        const content = r.structuredContent as { ok: boolean; data: { id: string } }
        if (!content.ok || content.data.id !== id) throw new Error(`task_show ${id} answered ${JSON.stringify(r.structuredContent)}`)
        const p0 = now()
        await client.ping()
        const pingMs = now() - p0
        if (i >= 0) {
          viaMcp.push(ms)
          ping.push(pingMs)
        }
      }
    } finally {
      await client.close()
    }
    const rows = [
      row({ benchmark: "mcp", case: `task_show at ${taskCount.toLocaleString("en-US")} tasks, warm grove mcp, SDK client over stdio (${bundle.fresh ? "bundle" : "sources"})`, unit: "ms", better: "lower", ours: stat(viaMcp), baseline: stat(raw) }),
      row({ benchmark: "mcp", case: "  split: MCP ping round trip (no grove work)", unit: "ms", better: "lower", ours: stat(ping) }),
      row({ benchmark: "mcp", case: "  split: showEntity in process (grove services, no protocol)", unit: "ms", better: "lower", ours: stat(inProcess), baseline: stat(raw) })
    ]
    const p95 = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * 0.95) - 1]!
    ctx.log(`mcp: task_show ${rows[0]!.ours.median.toFixed(2)} ms median (p95 ${p95(viaMcp).toFixed(2)}), ping ${rows[1]!.ours.median.toFixed(2)} ms, in process ${rows[2]!.ours.median.toFixed(3)} ms, raw ${rows[0]!.baseline!.median.toFixed(3)} ms; connect ${connectMs.toFixed(0)} ms`)
    return {
      name: "mcp",
      rows,
      targets: [target("warm MCP task_show at 10,000 tasks: median", rows[0]!.ours.median, "max", 5, "ms")],
      details: { calls, warmup, taskCount, connectMs, p95: { mcp: p95(viaMcp), ping: p95(ping), inProcess: p95(inProcess), raw: p95(raw) }, bundle },
      seconds: (now() - started) / 1000
    }
  } finally {
    repo.cleanup()
  }
}
