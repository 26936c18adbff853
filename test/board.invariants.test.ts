/**
 * The board lists invariant conflicts (a cycle made by two clones) with their
 * choices in plain words, and resolves one through the same resolve the CLI
 * and MCP use. Real clones of a bare remote, the real `grove board` process,
 * a real headless Chromium.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test"
import { type Browser, chromium } from "playwright-core"
import { type Board, startBoard } from "./support/board.ts"
import { childEnv, type Clone, makeWorld, opposedEdges, scratch, sharedTasks, withDb } from "./support/index.ts"

setDefaultTimeout(400_000)
const temp = scratch("all")
let board: Board | undefined
let browser: Browser | undefined

afterAll(async () => {
  await browser?.close()
  await board?.stop()
})

const eventCount = (c: Clone): number => withDb(c.db, (db) => (db.query("SELECT count(*) AS n FROM events").get() as { n: number }).n, { readonly: true })

describe("invariant conflicts on the board", () => {
  test("board lists a cycle with its choices in plain words and resolves it by one of them (the CLI's conflicts list confirms)", async () => {
    const [alice, bob] = makeWorld(temp, ["alice", "bob"]).clones as [Clone, Clone]
    const [a, b] = (await sharedTasks(alice, bob, ["A", "B"])).tasks as [string, string]
    expect(await opposedEdges(alice, bob, a, b)).toEqual(["i1"])

    // The board gets the tests' neutral environment and alice's actor, not whatever the runner's process holds.
    board = await startBoard(alice.dir, childEnv({ GROVE_ACTOR: "alice" }))
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--headless", "--no-sandbox", "--disable-gpu"] })
    const page = await (await browser.newContext()).newPage()
    await page.goto(board.url)
    await page.goto(`${board.origin}/#/conflicts`)
    const card = page.locator('[data-conflict="i1"]')
    await card.waitFor({ timeout: 60_000 }).catch(async (error: Error) => {
      // What the page showed instead, and what the API answered, so the failure says what went wrong.
      const api = await fetch(`${board!.origin}/api/conflicts`, { headers: { authorization: `Bearer ${board!.token}` } }).then((r) => r.text())
      throw new Error(`expected the cycle i1 on the conflicts page; it showed: ${await page.locator("body").innerText()}\n/api/conflicts: ${api}\n${error.message}`)
    })
    const text = await card.textContent()
    expect(text).toContain("dependency cycle")
    // Each choice is a button that says what it does.
    expect(text).toContain(`remove the dependency ${b} -> ${a} (${b} no longer waits for ${a})`)
    expect(text).toContain(`remove the dependency ${a} -> ${b}`)

    const before = eventCount(alice)
    await card.locator(`button[data-preview="drop:${b}>${a}"]`).click()
    await card.locator(".preview").waitFor()
    expect(await card.locator(".preview").textContent()).toContain("conflict.resolved")
    // A preview writes nothing.
    expect(eventCount(alice)).toBe(before)
    expect((await alice.ok("sync", "conflicts", "list")).map((c: { id: string }) => c.id)).toEqual(["i1"])
    await card.locator(`button[data-apply="drop:${b}>${a}"]`).click()
    await page.locator('[data-view="conflicts"]', { hasText: "No pending conflicts" }).waitFor()
    expect(await alice.ok("sync", "conflicts", "list")).toEqual([])
    const [settled] = (await alice.ok("sync", "conflicts", "list", "--all")).filter((c: { kind: string }) => c.kind === "invariant")
    expect(settled).toMatchObject({ id: "i1", status: "settled", settledBy: { op: "conflict.resolved" } })
    expect((await alice.ok("verify")).identical).toBe(true)
  })
})
