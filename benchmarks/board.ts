/**
 * 6. Board first load: a repository of 10,000 tasks (20 epics of 500, 2,000
 * subtasks, chains of dependencies) served by a real `grove board` process.
 * - the board's snapshot (every card with its subtask and dependency state)
 *   and its JSON, in-process, against raw bun:sqlite reading the task rows
 *   and JSON-encoding them; and GET /api/board from the client (the board
 *   caches that JSON per data_version);
 * - browser: in headless Chromium (when /usr/bin/chromium exists), from the
 *   navigation to the printed URL (token redirect, page, script, data) until
 *   the first cards are on screen (`body[data-ready]`, in the page's own
 *   clock), each run in a fresh browser context (cold page cache).
 */
import { spawn } from "bun"
import { Effect } from "effect"
import * as NodeFs from "node:fs"
import { boardSnapshot } from "../src/board/Snapshot.ts"
import { Bulk } from "../src/tracker/Bulk.ts"
import { Tracker } from "../src/tracker/Tracker.ts"
import { makeRepo } from "../test/support/repo.ts"
import { type BenchContext, type BenchResult, groveBin, groveRuntime, now, openRaw, row, type Row, stat, target, type Target } from "./harness.ts"

const chromiumPath = "/usr/bin/chromium"

/** Builds the repository: `epics` epics of `perEpic` tasks, a subtask on every fifth task, each task after the first of ten depending on the one before. */
const populate = async (root: string, epics: number, perEpic: number) => {
  const rt = await groveRuntime(root)
  try {
    await rt.runPromise(Effect.gen(function*() {
      const tracker = yield* Tracker
      const bulk = yield* Bulk
      for (let e = 0; e < epics; e++) {
        const epic = yield* tracker.create("epic", undefined, { title: `Epic ${e + 1}` })
        const { ids } = yield* bulk.createMany("task", epic.id, Array.from({ length: perEpic }, (_, i) => ({ line: i + 1, value: { title: `Task ${e + 1}.${i + 1}` } })))
        yield* bulk.createMany("subtask", undefined, ids.filter((_, i) => i % 5 === 0).map((id, i) => ({ line: i + 1, value: { title: `Subtask of ${id}`, parent: id } })))
        yield* bulk.addDependencies(ids.flatMap((id, i) => (i % 10 === 0 ? [] : [{ line: i, value: { source: id, target: ids[i - 1]! } }])))
      }
    }))
  } finally {
    await rt.dispose()
  }
}

const startBoard = async (root: string) => {
  const child = spawn([process.execPath, groveBin, "board"], { cwd: root, stdout: "pipe", stderr: "pipe" })
  const reader = child.stdout.getReader()
  let text = ""
  while (!text.includes("\n")) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`grove board exited: ${await new Response(child.stderr).text()}`)
    text += new TextDecoder().decode(value)
  }
  const url = new URL(text.split("\n")[0]!)
  return { url: url.href, origin: url.origin, token: url.searchParams.get("token")!, stop: () => (child.kill(), child.exited) }
}

export const boardLoad = async (ctx: BenchContext): Promise<BenchResult> => {
  const started = now()
  const [epics, perEpic, runs] = ctx.quick ? [4, 500, 3] : [20, 500, 7]
  const tasks = epics * perEpic
  const repo = makeRepo("bench-board")
  const rows: Array<Row> = []
  const targets: Array<Target> = []
  const details: Record<string, unknown> = { tasks, subtasks: tasks / 5, dependencies: tasks - tasks / 10 }
  try {
    await populate(repo.root, epics, perEpic)
    ctx.log(`board: ${tasks} tasks written`)
    const board = await startBoard(repo.root)
    try {
      const headers = { authorization: `Bearer ${board.token}` }
      const compute: Array<number> = []
      const raw: Array<number> = []
      const served: Array<number> = []
      let bytes = 0
      const db = openRaw(repo.db)
      try {
        JSON.stringify(boardSnapshot(db)) // warm the JIT once
        for (let i = 0; i < runs; i++) {
          let start = now()
          JSON.stringify(boardSnapshot(db))
          compute.push(now() - start)
          start = now()
          JSON.stringify(db.query("SELECT id, epic_id, title, status, owner, version FROM tasks ORDER BY created_clock").all())
          raw.push(now() - start)
          start = now()
          const body = await fetch(`${board.origin}/api/board`, { headers }).then((r) => r.text())
          served.push(now() - start)
          bytes = body.length
          if ((JSON.parse(body) as { data: { tasks: Array<unknown> } }).data.tasks.length !== tasks) throw new Error("the board did not list every task")
        }
      } finally {
        db.close()
      }
      details["boardJsonBytes"] = bytes
      const snapshot = row({ benchmark: "board", case: `snapshot + JSON, ${tasks.toLocaleString("en-US")} tasks`, unit: "ms", better: "lower", ours: stat(compute), baseline: stat(raw), note: "in-process; baseline: raw SELECT of the task rows + JSON.stringify" })
      const api = row({ benchmark: "board", case: `GET /api/board, ${tasks.toLocaleString("en-US")} tasks`, unit: "ms", better: "lower", ours: stat(served), note: "from the client; the board caches the JSON per data_version" })
      rows.push(snapshot, api)
      ctx.log(`board snapshot: ${snapshot.ours.median.toFixed(1)} ms (raw ${snapshot.baseline!.median.toFixed(1)} ms); GET /api/board ${api.ours.median.toFixed(1)} ms, ${bytes} bytes`)

      if (NodeFs.existsSync(chromiumPath)) {
        const { chromium } = await import("playwright-core")
        const browser = await chromium.launch({
          executablePath: chromiumPath,
          args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
        })
        try {
          const loads: Array<number> = []
          for (let i = 0; i < runs + 1; i++) {
            const context = await browser.newContext()
            const page = await context.newPage()
            await page.goto(board.url)
            await page.waitForSelector("body[data-ready]")
            const ready = Number(await page.getAttribute("body", "data-ready"))
            const cards = await page.locator("article.card").count()
            if (cards === 0) throw new Error("the page showed no cards")
            if (i > 0) loads.push(ready) // the first run warms the browser process itself
            await context.close()
          }
          const load = row({ benchmark: "board", case: `first load in Chromium, ${tasks.toLocaleString("en-US")} tasks`, unit: "ms", better: "lower", ours: stat(loads), note: "navigation start to first cards on screen" })
          rows.push(load)
          ctx.log(`board first load: ${load.ours.median.toFixed(0)} ms`)
          if (!ctx.quick) targets.push(target("first load of 10,000 tasks", load.ours.median, "max", 300, "ms"))
        } finally {
          await browser.close()
        }
      } else {
        ctx.log(`board: ${chromiumPath} missing, browser first load not measured`)
      }
    } finally {
      await board.stop()
    }
  } finally {
    repo.cleanup()
  }
  return { name: "board", rows, targets, details, seconds: (now() - started) / 1000 }
}
