/**
 * `grove board` end to end in a real headless Chromium (Debian's, driven by
 * playwright-core), against a real `grove board` process over a repository
 * with a linked worktree, while the real CLI writes from both worktrees. One
 * browser for the whole file. Screenshots go to a temp folder (printed); with
 * GROVE_BOARD_SCREENSHOTS=docs they also replace the PNGs of docs/board.md.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { Effect } from "effect"
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core"
import { type Board, makeTitleConflict, startBoard } from "./support/board.ts"
import { grove as groveCli, groveAsync } from "./support/cli.ts"
import { makeRepo, type TestRepo } from "./support/repo.ts"
import { isolateEnv } from "./support/suite.ts"
import { Claims } from "../src/tracker/Claims.ts"
import { Tracker } from "../src/tracker/Tracker.ts"
import { withDb } from "./support/db.ts"
import { inWorktree } from "./support/effect.ts"

setDefaultTimeout(180_000)
isolateEnv()

const chromiumFlags = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  // A name that resolves to this machine, as an attacker's DNS would during a rebinding attack.
  "--host-resolver-rules=MAP rebind.test 127.0.0.1"
]

const cliEnv = { GROVE_ACTOR: "cli@example.com" }
const boardActor = "board@example.com"
const grove = (cwd: string, args: ReadonlyArray<string>) => groveCli(cwd, args, { env: cliEnv })
const created = (cwd: string, args: ReadonlyArray<string>) => {
  const r = grove(cwd, [...args, "--json"])
  if (r.exitCode !== 0) throw new Error(`grove ${args.join(" ")} failed: ${r.stdout}${r.stderr}`)
  return r.json.data.id as string
}
const ok = (cwd: string, args: ReadonlyArray<string>) => {
  const r = grove(cwd, [...args, "--json"])
  if (r.exitCode !== 0) throw new Error(`grove ${args.join(" ")} failed: ${r.stdout}${r.stderr}`)
  return r.json.data
}

let repo: TestRepo
let feat: string
let board: Board
let browser: Browser
let context: BrowserContext
let page: Page
let shots: string
const ids: Record<string, string> = {}

const screenshot = async (target: Page, name: string) => {
  const file = NodePath.join(shots, `${name}.png`)
  await target.screenshot({ path: file, fullPage: true })
  if (process.env["GROVE_BOARD_SCREENSHOTS"] === "docs") {
    NodeFs.copyFileSync(file, NodePath.resolve(import.meta.dir, "..", "docs", "board", `${name}.png`))
  }
}

/** Creates in the main worktree in-process, as one grove command would (the proofs that need the CLI spawn it). */
const make = (kind: "epic" | "task" | "subtask", parent: string | undefined, title: string) =>
  inWorktree(repo.root, Effect.map(Effect.flatMap(Tracker, (t) => t.create(kind, parent, { title })), (e) => e.id))

/** A task's projection row, read straight from the database file. */
const row = (id: string) =>
  withDb(repo.db, (db) => db.query("SELECT title, status, owner FROM tasks WHERE id = ?").get(id) as { title: string; status: string; owner: string | null })

const card = (id: string) => page.locator(`article.card[data-id="${id}"]`)

beforeAll(async () => {
  shots = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "grove-board-shots-"))
  process.stderr.write(`board screenshots: ${shots}\n`)
  repo = makeRepo()
  // The graph is set up in-process, one withTracker call per command (a CLI process each would cost seconds on a
  // loaded machine); the tests themselves write through the real CLI.
  process.env["GROVE_ACTOR"] = cliEnv.GROVE_ACTOR
  feat = repo.addWorktree("feat-ranking")
  const tracker = <A, E>(f: (t: typeof Tracker.Service) => Effect.Effect<A, E>) => inWorktree(repo.root, Effect.flatMap(Tracker, f))
  ids["epic"] = await make("epic", undefined, "Search")
  for (const [key, title] of [["index", "Index documents"], ["parse", "Parse queries"], ["rank", "Rank results"], ["ui", "Results page"], ["docs", "Write the docs"], ["grammar", "Query grammar"]]) {
    ids[key!] = await make("task", ids["epic"], title!)
  }
  ids["tokenize"] = await make("subtask", ids["index"], "Tokenizer")
  ids["store"] = await make("subtask", ids["index"], "Posting lists")
  await tracker((t) => t.addDependency(ids["rank"]!, ids["index"]!))
  await tracker((t) => t.addDependency(ids["rank"]!, ids["parse"]!))
  await tracker((t) => t.addDependency(ids["ui"]!, ids["rank"]!))
  await tracker((t) => t.addDependency(ids["parse"]!, ids["grammar"]!))
  await inWorktree(repo.root, Effect.flatMap(Claims, (c) => c.claim("task", ids["index"]!, { owner: "agent-1" })))
  await tracker((t) => t.done("subtask", ids["tokenize"]!))
  await tracker((t) => t.done("task", ids["docs"]!))
  await tracker((t) => t.update("task", ids["parse"]!, { status: "blocked" }))
  board = await startBoard(repo.root, { GROVE_ACTOR: boardActor })
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: chromiumFlags })
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  page = await context.newPage()
})

afterAll(async () => {
  delete process.env["GROVE_ACTOR"]
  await browser?.close()
  await board?.stop()
  repo?.cleanup()
})

describe("grove board in Chromium", () => {
  test("tasks created by the CLI in one worktree appear on the board, with dependency state and blockers", async () => {
    const added = created(feat, ["task", "create", "--epic", ids["epic"]!, "--title", "Add BM25"])
    await page.goto(board.url)
    // The token left the address bar for an HttpOnly cookie the page cannot read.
    expect(new URL(page.url()).search).toBe("")
    expect(await page.evaluate("document.cookie")).toBe("")
    await page.waitForSelector("body[data-ready]")
    await expect(card(added).locator(".title").textContent()).resolves.toBe("Add BM25")
    expect(await card(added).getAttribute("data-version")).toBe("1")
    expect(await page.locator(`section[data-status="in_progress"] article[data-id="${ids["index"]}"] .meta`).textContent()).toContain("subtasks 1/2")
    expect(await card(ids["parse"]!).locator(".why").textContent()).toBe("blocked by Query grammar")
    expect(await card(ids["rank"]!).locator(".why").textContent()).toBe("waiting on Index documents, Parse queries")
    await screenshot(page, "board")
    // Filters: by worktree (where each task was last written) and by owner.
    await page.selectOption('select[data-filter="worktree"]', { label: "feat-ranking" })
    expect(await page.locator("article.card").evaluateAll((cards) => cards.map((c) => c.getAttribute("data-id")))).toEqual([added])
    await page.selectOption('select[data-filter="worktree"]', "")
    await page.selectOption('select[data-filter="owner"]', "agent-1")
    expect(await page.locator("article.card").evaluateAll((cards) => cards.map((c) => c.getAttribute("data-id")))).toEqual([ids["index"]])
    await page.selectOption('select[data-filter="owner"]', "")
  })

  test("the page is keyboard navigable: Tab reaches a card's link and Enter opens the task with its history", async () => {
    await page.goto(`${board.origin}/#/board`)
    await page.waitForSelector("body[data-ready]")
    let focused = ""
    for (let i = 0; i < 40 && !focused.includes(`#/task/${ids["index"]}`); i++) {
      await page.keyboard.press("Tab")
      focused = await page.evaluate<string>("document.activeElement?.href ?? ''")
    }
    expect(focused).toContain(`#/task/${ids["index"]}`)
    await page.keyboard.press("Enter")
    await page.waitForSelector('[data-view="task"] table[data-table="history"] tbody tr')
    const history = await page.locator('table[data-table="history"] tbody tr').evaluateAll((rows) => rows.map((r) => r.textContent ?? ""))
    expect(history.at(-1)).toContain("task.created")
    expect(history.at(-1)).toContain("cli@example.com")
    expect(history.at(0)).toContain("task.claimed")
    expect(await page.locator('[data-view="task"]').textContent()).toContain("Posting lists")
    await screenshot(page, "task")
  })

  test("a CLI write in another worktree appears in the open page within 2 s, without a reload", async () => {
    await page.goto(`${board.origin}/#/board`)
    await page.waitForSelector('[data-live="on"]')
    await page.evaluate("window.sameDocument = true")
    const id = created(feat, ["task", "create", "--epic", ids["epic"]!, "--title", "Live from feat"])
    const written = performance.now()
    await card(id).waitFor({ timeout: 2000 })
    const shownAfterMs = performance.now() - written
    expect(shownAfterMs).toBeLessThan(2000)
    expect(await page.evaluate("window.sameDocument")).toBe(true)
    // The Activity view has it too, with where it was written.
    await page.goto(`${board.origin}/#/activity`)
    const line = page.locator(`[data-view="activity"] tr:has(a[href="#/task/${id}"])`)
    await line.waitFor()
    expect(await line.textContent()).toContain("feat-ranking")
    await screenshot(page, "activity")
  })

  test("a claim race between the page and the CLI has exactly one winner", async () => {
    const contested = await make("task", ids["epic"], "Contested claim")
    await page.goto(`${board.origin}/#/board`)
    const claim = card(contested).locator('button[data-action="claim"]')
    await claim.waitFor()
    const message = page.locator(".message", { hasText: contested }).first()
    // The page's outcome is read as soon as it shows (messages fade after 8 s; the CLI may take longer on a loaded machine).
    const [cli, said] = await Promise.all([
      groveAsync(feat, ["task", "claim", contested, "--owner", "cli-agent", "--json"], cliEnv),
      claim.click().then(() => message.waitFor()).then(() => message.textContent())
    ])
    const owner = row(contested).owner
    const claims = withDb(repo.db, (db) =>
      (db.query("SELECT count(*) AS n FROM events WHERE entity_id = ? AND op = 'task.claimed'").get(contested) as { n: number }).n)
    expect(claims).toBe(1)
    expect([boardActor, "cli-agent"]).toContain(owner ?? "(none)")
    expect({ cliWon: cli.json.ok === true && cli.json.data.claimed === true, pageWon: said?.startsWith("Claimed") }).toEqual(
      owner === "cli-agent" ? { cliWon: true, pageWon: false } : { cliWon: false, pageWon: true }
    )
  })

  test("a stale edit gets a clear message and writes nothing", async () => {
    const stale = await make("task", ids["epic"], "Edited twice")
    // The page stays offline from the live stream, so it still shows version 1 when the CLI moves the task on.
    await page.route("**/api/stream", (route) => route.abort().catch(() => {}))
    await page.goto(`${board.origin}/#/board`)
    await page.reload() // a new document: the stream the old one held is gone
    await card(stale).waitFor()
    await inWorktree(feat, Effect.flatMap(Tracker, (t) => t.update("task", stale, { title: "Edited from feat" })))
    const before = withDb(repo.db, (db) => (db.query("SELECT count(*) AS n FROM events").get() as { n: number }).n)
    await card(stale).locator('select[data-action="status"]').selectOption("in_progress")
    const message = page.locator(".message.error", { hasText: stale })
    await message.waitFor()
    expect(await message.textContent()).toContain("changed since the page showed it (version 1 → 2)")
    expect(await message.textContent()).toContain("nothing was written")
    await page.unroute("**/api/stream")
    // After the refusal the page shows the current version.
    await page.locator(`article.card[data-id="${stale}"][data-version="2"]`).waitFor()
    expect(withDb(repo.db, (db) => (db.query("SELECT count(*) AS n FROM events").get() as { n: number }).n)).toBe(before)
    expect(row(stale).status).toBe("todo")
  })

  test("the graph shows states at a glance and highlights the longest remaining chain", async () => {
    await page.goto(`${board.origin}/#/graph/${ids["epic"]}`)
    await page.waitForSelector("svg.graph")
    const states = Object.fromEntries(await page.locator("svg.graph a[data-node]").evaluateAll((nodes) =>
      nodes.map((n) => [n.getAttribute("data-node"), n.getAttribute("data-state")])))
    expect(states).toMatchObject({ [ids["index"]!]: "in_progress", [ids["parse"]!]: "blocked", [ids["rank"]!]: "blocked", [ids["docs"]!]: "done" })
    const chain = await page.locator("svg.graph a.chain").evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-node")))
    expect(new Set(chain)).toEqual(new Set([ids["grammar"], ids["parse"], ids["rank"], ids["ui"]]))
    expect(await page.locator("svg.graph path.chain").count()).toBe(3)
    await screenshot(page, "graph")
  })

  test("worktrees show who is doing what: branch, actors, claims, behind/ahead", async () => {
    await page.goto(`${board.origin}/#/worktrees`)
    const row = page.locator(`tr[data-worktree="${feat}"]`)
    await row.waitFor()
    expect(await row.textContent()).toContain("feat-ranking")
    expect(await row.textContent()).toContain("cli@example.com")
    const main = await page.locator(`tr[data-worktree="${repo.root}"]`).textContent()
    expect(main).toContain("Index documents (agent-1)")
    expect(main).toContain("this board")
    await screenshot(page, "worktrees")
  })

  test("resolving a conflict in the page settles it, after a preview (the CLI's conflicts list confirms)", async () => {
    await makeTitleConflict(repo.root, feat, ids["docs"]!)
    const [pending] = ok(repo.root, ["sync", "conflicts", "list"])
    await page.goto(`${board.origin}/#/conflicts`)
    const conflict = page.locator(`[data-conflict="${pending.id}"]`)
    await conflict.waitFor()
    expect(await conflict.textContent()).toContain("title from feat")
    await conflict.locator('button[data-preview="theirs"]').click()
    await conflict.locator(".preview").waitFor()
    expect(await conflict.locator(".preview").textContent()).toContain('conflict.resolved')
    await screenshot(page, "conflicts")
    // The preview wrote nothing.
    expect(ok(repo.root, ["sync", "conflicts", "list"]).map((c: { id: number }) => c.id)).toEqual([pending.id])
    await conflict.locator('button[data-apply="theirs"]').click()
    await page.locator(".message", { hasText: `Conflict #${pending.id} resolved with theirs` }).waitFor()
    expect(ok(repo.root, ["sync", "conflicts", "list"])).toEqual([])
    expect(row(ids["docs"]!).title).toBe("title from feat")
    await page.locator('[data-view="conflicts"]', { hasText: "No pending conflicts" }).waitFor()
  })

  test("the dark theme is readable", async () => {
    const dark = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "dark" })
    const darkPage = await dark.newPage()
    await darkPage.goto(board.url)
    await darkPage.waitForSelector("body[data-ready]")
    const colors = await darkPage.evaluate("({ bg: getComputedStyle(document.body).backgroundColor, fg: getComputedStyle(document.body).color })")
    expect(colors).toEqual({ bg: "rgb(13, 17, 23)", fg: "rgb(230, 237, 243)" })
    await screenshot(darkPage, "board-dark")
    await dark.close()
  })

  test("a browser without the token, on a rebinding name, or on another site's page is refused and writes nothing", async () => {
    const stranger = await browser.newContext()
    const strangerPage = await stranger.newPage()
    const noToken = await strangerPage.goto(`${board.origin}/`)
    expect(noToken?.status()).toBe(401)
    expect(await noToken?.json()).toMatchObject({ ok: false, error: { code: "token_required" } })
    // DNS rebinding: a name the attacker controls now points at 127.0.0.1; even with the token the Host is refused.
    const rebound = await strangerPage.goto(`http://rebind.test:${board.port}/?token=${board.token}`)
    expect(rebound?.status()).toBe(403)
    expect(await rebound?.json()).toMatchObject({ ok: false, error: { code: "host_rejected" } })
    await stranger.close()

    // Another site on this machine (same host, other port: its requests carry the board's cookie) tries a write.
    const target = await make("task", ids["epic"], "Not yours")
    const before = withDb(repo.db, (db) => (db.query("SELECT count(*) AS n FROM events").get() as { n: number }).n)
    const attacker = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () =>
        new Response(
          `<script>fetch(${JSON.stringify(`${board.origin}/api/entities/${target}/claim`)}, { method: "POST", credentials: "include", body: '{"ifVersion":1}' }).catch(() => {})</script>`,
          { headers: { "content-type": "text/html" } }
        )
    })
    try {
      // The board answers 403 origin_rejected (test/board.api.test.ts checks the code) with no CORS header,
      // so the attacker's page cannot even read the refusal: the browser fails the request.
      const failed = page.waitForEvent("requestfailed", (r) => r.url().endsWith(`/api/entities/${target}/claim`))
      await page.goto(`http://127.0.0.1:${attacker.port}/`)
      expect((await failed).failure()?.errorText).toBe("net::ERR_FAILED")
    } finally {
      attacker.stop(true)
    }
    expect(withDb(repo.db, (db) => (db.query("SELECT count(*) AS n FROM events").get() as { n: number }).n)).toBe(before)
    expect(row(target).owner).toBeNull()
  })
})
