/**
 * The board's HTTP API, endpoint by endpoint, against a real `grove board`
 * process over a real repository with a linked worktree: status codes, error
 * codes from the registry, the security gate and body size limits. Every
 * refused write is checked to have written nothing (event count before/after).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test"
import { Effect } from "effect"
import { errorCodes } from "../src/errors/codes.ts"
import { Conflicts } from "../src/sync/Conflicts.ts"
import { Claims } from "../src/tracker/Claims.ts"
import { Tracker } from "../src/tracker/Tracker.ts"
import { type Board, makeTitleConflict, startBoard } from "./support/board.ts"
import { grove as groveCli } from "./support/cli.ts"
import { makeRepo, type TestRepo } from "./support/repo.ts"
import { isolateEnv } from "./support/suite.ts"
import { withDb } from "./support/db.ts"
import { failureIn, inWorktree } from "./support/effect.ts"

// The board is a process of its own; on a loaded 2-core machine its start and each write take seconds.
setDefaultTimeout(180_000)
isolateEnv()

let repo: TestRepo
let feat: string
let board: Board
let epic: string
let first: string
let second: string

// Other writers are this test process, in-process through the same services as the CLI (a CLI process each costs
// seconds on a loaded machine); the board is a process of its own either way.
const otherActor = "cli@example.com"
const tracker = <A, E>(cwd: string, f: (t: typeof Tracker.Service) => Effect.Effect<A, E>) => inWorktree(cwd, Effect.flatMap(Tracker, f))
const task = (cwd: string, title: string) => tracker(cwd, (t) => Effect.map(t.create("task", epic, { title }), (e) => e.id))
const eventCount = () => withDb(repo.db, (db) => (db.query("SELECT count(*) AS n FROM events").get() as { n: number }).n)

/** A request as the page makes it: its cookie and its own origin. */
const call = (path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) =>
  fetch(`${board.origin}${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    redirect: "manual",
    headers: {
      cookie: `grove_board_${board.port}=${board.token}`,
      ...(init.body === undefined ? {} : { "content-type": "application/json", origin: board.origin }),
      ...init.headers
    },
    ...(init.body === undefined ? {} : { body: init.body })
  })

const post = (path: string, body: unknown, headers: Record<string, string> = {}) => call(path, { body: JSON.stringify(body), headers })

/** Status and body of a response, so a failed expectation shows what the board said. */
const reply = async (response: Response) => ({ status: response.status, body: await response.json() as any })

const expectFailure = async (response: Response, status: number, code: keyof typeof errorCodes) => {
  const r = await reply(response)
  expect({ status: r.status, ok: r.body.ok, code: r.body.error?.code }).toEqual({ status, ok: false, code })
  expect(typeof r.body.error.message).toBe("string")
}

const version = (id: string) => withDb(repo.db, (db) => (db.query("SELECT version FROM tasks WHERE id = ?").get(id) as { version: number }).version)

beforeAll(async () => {
  repo = makeRepo()
  feat = repo.addWorktree("feat")
  // Set up in-process, one withTracker call per command (a CLI process each costs seconds on a loaded machine).
  process.env["GROVE_ACTOR"] = otherActor
  epic = await tracker(repo.root, (t) => Effect.map(t.create("epic", undefined, { title: "Search" }), (e) => e.id))
  first = await task(repo.root, "Index documents")
  second = await task(repo.root, "Parse queries")
  await tracker(repo.root, (t) => t.addDependency(second, first))
  board = await startBoard(repo.root, { GROVE_ACTOR: "board@example.com" })
})

afterAll(async () => {
  delete process.env["GROVE_ACTOR"]
  await board?.stop()
  repo?.cleanup()
})

describe("security gate", () => {
  test("the printed URL sets the token as an HttpOnly SameSite=Strict cookie and drops it from the address", async () => {
    const r = await fetch(board.url, { redirect: "manual" })
    expect(r.status).toBe(303)
    expect(r.headers.get("location")).toBe("/")
    expect(r.headers.get("set-cookie")).toBe(`grove_board_${board.port}=${board.token}; HttpOnly; SameSite=Strict; Path=/`)
    const page = await call("/")
    expect(page.status).toBe(200)
    expect(await page.text()).toContain("/assets/app.js")
  })

  test("a request without the token, or with a wrong one, is refused with token_required (401) on pages, API and stream", async () => {
    for (const path of ["/", "/assets/app.js", "/api/board", "/api/stream", "/api/events"]) {
      await expectFailure(await fetch(`${board.origin}${path}`), 401, "token_required")
      await expectFailure(await fetch(`${board.origin}${path}`, { headers: { cookie: `grove_board_${board.port}=wrong` } }), 401, "token_required")
    }
    const before = eventCount()
    await expectFailure(await fetch(`${board.origin}/api/entities/${first}/claim`, { method: "POST", body: JSON.stringify({ ifVersion: 1 }) }), 401, "token_required")
    expect(eventCount()).toBe(before)
  })

  test("a foreign Host is refused with host_rejected (403) even with the token: no DNS rebinding", async () => {
    for (const host of [`evil.example:${board.port}`, `localhost.evil.example:${board.port}`, `127.0.0.1:${board.port + 1}`]) {
      await expectFailure(await call("/api/board", { headers: { host } }), 403, "host_rejected")
    }
    expect((await call("/api/board", { headers: { host: `localhost:${board.port}` } })).status).toBe(200)
  })

  test("a foreign Origin or a cross-site fetch is refused with origin_rejected (403), and nothing is written", async () => {
    const before = eventCount()
    await expectFailure(await post(`/api/entities/${first}/claim`, { ifVersion: 1 }, { origin: "http://evil.example" }), 403, "origin_rejected")
    await expectFailure(await post(`/api/entities/${first}/claim`, { ifVersion: 1 }, { "sec-fetch-site": "cross-site" }), 403, "origin_rejected")
    await expectFailure(await call("/api/board", { headers: { origin: "http://evil.example" } }), 403, "origin_rejected")
    expect(eventCount()).toBe(before)
  })

  test("there is no CORS: no Access-Control header on any answer, and a preflight is an unknown route (404)", async () => {
    const normal = await call("/api/board", { headers: { origin: board.origin } })
    expect([...normal.headers.keys()].filter((k) => k.startsWith("access-control"))).toEqual([])
    const preflight = await call("/api/board", { method: "OPTIONS", headers: { origin: "http://evil.example", "access-control-request-method": "POST" } })
    // The Origin check answers first; without an Origin the route itself is unknown.
    expect(preflight.status).toBe(403)
    const bare = await call("/api/board", { method: "OPTIONS" })
    expect([...bare.headers.keys()].filter((k) => k.startsWith("access-control"))).toEqual([])
    await expectFailure(bare, 404, "unknown_route")
  })

  test("an unknown path or method is unknown_route (404)", async () => {
    await expectFailure(await call("/api/nope"), 404, "unknown_route")
    await expectFailure(await call("/api/board", { method: "DELETE" }), 404, "unknown_route")
    await expectFailure(await call("/api/entities/%E0%A4%A"), 404, "unknown_route")
  })
})

describe("read endpoints", () => {
  test("GET /api/board: epics, every task with dependency state, the board's identity and log position", async () => {
    const r = await reply(await call("/api/board"))
    expect(r.status).toBe(200)
    expect(r.body.data.epics.map((e: any) => e.id)).toEqual([epic])
    const cards = new Map(r.body.data.tasks.map((t: any) => [t.id, t]))
    expect(cards.get(second)).toMatchObject({ status: "todo", dependencies: 1, waitingOn: [first] })
    expect(r.body.data.worktrees[(cards.get(second) as any).worktree]).toBe(repo.root)
    expect(r.body.data.me).toMatchObject({ actor: "board@example.com", stream: "main", worktree: repo.root })
    expect(r.body.data.seq).toBe(eventCount())
  })

  test("GET /api/entities/:id: fields, dependencies both ways and the history with git context; unknown ids are not_found (404)", async () => {
    const r = await reply(await call(`/api/entities/${first}`))
    expect(r.status).toBe(200)
    expect(r.body.data.entity).toMatchObject({ id: first, kind: "task", title: "Index documents" })
    expect(r.body.data.dependedOnBy).toEqual([{ id: second, kind: "task", title: "Parse queries", status: "todo" }])
    expect(r.body.data.history[0]).toMatchObject({ op: "task.created", actor: "cli@example.com", worktree: repo.root, stream: "main" })
    expect(r.body.data.history[0].head).toMatch(/^[0-9a-f]{40}$/)
    const epicView = await reply(await call(`/api/entities/${epic}`))
    expect(epicView.body.data.children.map((t: any) => t.id)).toEqual([first, second])
    await expectFailure(await call("/api/entities/t-doesnotexist"), 404, "not_found")
    await expectFailure(await call("/api/entities/x-1"), 404, "not_found")
  })

  test("GET /api/graph/:epic: nodes by level with states and the longest remaining chain; unknown epic is not_found", async () => {
    const r = await reply(await call(`/api/graph/${epic}`))
    expect(r.status).toBe(200)
    expect(r.body.data.chain).toEqual([first, second])
    expect(r.body.data.nodes.map((n: any) => [n.id, n.level, n.state])).toEqual([[first, 0, "ready"], [second, 1, "blocked"]])
    await expectFailure(await call("/api/graph/e-missing"), 404, "not_found")
  })

  test("GET /api/worktrees: every worktree with branch, head, commits and events against main", async () => {
    const r = await reply(await call("/api/worktrees"))
    expect(r.status).toBe(200)
    const byPath = new Map(r.body.data.map((w: any) => [w.path, w]))
    expect(byPath.get(repo.root)).toMatchObject({ branch: "main", current: true, commits: { behind: 0, ahead: 0 } })
    expect(byPath.get(feat)).toMatchObject({ branch: "feat", current: false, actors: [] })
    expect((byPath.get(feat) as any).sync.behind).toBeGreaterThan(0)
  })

  test("GET /api/events: the newest events first, limit checked (invalid_input, 400)", async () => {
    const r = await reply(await call("/api/events?limit=2"))
    expect(r.body.data.map((e: any) => e.seq)).toEqual([eventCount(), eventCount() - 1])
    await expectFailure(await call("/api/events?limit=0"), 400, "invalid_input")
    await expectFailure(await call("/api/events?limit=abc"), 400, "invalid_input")
    await expectFailure(await call("/api/events?limit=1001"), 400, "invalid_input")
  })
})

describe("write endpoints", () => {
  test("POST /api/entities/:id/status: written with the board's actor and worktree at the version shown; a stale version is version_mismatch (409), nothing written", async () => {
    const third = await task(feat, "Rank results")
    const before = eventCount()
    const ok = await reply(await post(`/api/entities/${third}/status`, { status: "in_progress", ifVersion: 1 }))
    expect(ok.status).toBe(200)
    expect(ok.body.data.entity).toMatchObject({ status: "in_progress", version: 2 })
    expect(eventCount()).toBe(before + 1)
    const stamp = withDb(repo.db, (db) =>
      db.query("SELECT t.actor, t.worktree FROM events e JOIN transactions t ON t.id = e.tx_id ORDER BY e.seq DESC LIMIT 1").get())
    expect(stamp).toEqual({ actor: "board@example.com", worktree: repo.root })
    await expectFailure(await post(`/api/entities/${third}/status`, { status: "blocked", ifVersion: 1 }), 409, "version_mismatch")
    await expectFailure(await post(`/api/entities/${second}/status`, { status: "in_progress", ifVersion: 1 }), 409, "dependency_not_done")
    await expectFailure(await post(`/api/entities/t-missing/status`, { status: "done", ifVersion: 1 }), 404, "not_found")
    expect(eventCount()).toBe(before + 1)
  })

  test("POST bodies are checked: not JSON, wrong shape, extra fields and a missing version are invalid_input (400)", async () => {
    const before = eventCount()
    await expectFailure(await call(`/api/entities/${first}/status`, { body: "{not json", headers: {} }), 400, "invalid_input")
    await expectFailure(await post(`/api/entities/${first}/status`, { status: "finished", ifVersion: 1 }), 400, "invalid_input")
    await expectFailure(await post(`/api/entities/${first}/status`, { status: "done" }), 400, "invalid_input")
    await expectFailure(await post(`/api/entities/${first}/status`, { status: "done", ifVersion: 1, owner: "x" }), 400, "invalid_input")
    await expectFailure(await post(`/api/entities/${first}/claim`, { ifVersion: 0 }), 400, "invalid_input")
    await expectFailure(await post(`/api/conflicts/abc/resolve`, { use: "ours", dryRun: true }), 400, "invalid_input")
    await expectFailure(await post(`/api/conflicts/1/resolve`, { use: "mine", dryRun: true }), 400, "invalid_input")
    expect(eventCount()).toBe(before)
  })

  test("bodies over 4096 bytes are body_too_large (413), declared or streamed, and nothing is written", async () => {
    const before = eventCount()
    const big = JSON.stringify({ ifVersion: 1, pad: "x".repeat(5000) })
    const declared = await reply(await call(`/api/entities/${first}/claim`, { body: big }))
    expect({ status: declared.status, code: declared.body.error.code, limit: declared.body.error.details.limit }).toEqual({ status: 413, code: "body_too_large", limit: 4096 })
    // No Content-Length: the body is read in chunks and cut off as soon as it passes the limit.
    const chunks = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode("x".repeat(1000)))
        controller.close()
      }
    })
    const streamed = await fetch(`${board.origin}/api/entities/${first}/claim`, {
      method: "POST",
      headers: { cookie: `grove_board_${board.port}=${board.token}`, "content-type": "application/json" },
      body: chunks
    })
    await expectFailure(streamed, 413, "body_too_large")
    expect(eventCount()).toBe(before)
  })

  test("POST /api/entities/:id/claim: claims as the board's actor; a task someone else holds is claim_lost (409), nothing written", async () => {
    const r = await reply(await post(`/api/entities/${first}/claim`, { ifVersion: version(first) }))
    expect(r.status).toBe(200)
    expect(r.body.data).toMatchObject({ claimed: true, entity: { owner: "board@example.com", status: "in_progress" } })
    const taken = await failureIn(feat, Effect.flatMap(Claims, (c) => c.claim("task", first, { owner: "cli-agent" })))
    expect({ code: taken.code, owner: taken.details["owner"] }).toEqual({ code: "claim_lost", owner: "board@example.com" })
    const fourth = await task(repo.root, "Cache")
    await inWorktree(feat, Effect.flatMap(Claims, (c) => c.claim("task", fourth, { owner: "cli-agent" })))
    const before = eventCount()
    const lost = await post(`/api/entities/${fourth}/claim`, { ifVersion: version(fourth) })
    await expectFailure(lost, 409, "claim_lost")
    await expectFailure(await post(`/api/entities/${epic}/claim`, { ifVersion: 1 }), 400, "invalid_input")
    expect(eventCount()).toBe(before)
  })

  test("POST /api/entities/:id/release: the owner releases; someone else's claim is not_owner (409), nothing written", async () => {
    const mine = await task(repo.root, "Release me")
    expect((await reply(await post(`/api/entities/${mine}/claim`, { ifVersion: 1 }))).status).toBe(200)
    const released = await reply(await post(`/api/entities/${mine}/release`, {}))
    expect(released.status).toBe(200)
    expect(released.body.data).toMatchObject({ changed: true, previousOwner: "board@example.com", entity: { owner: null, status: "todo" } })
    const theirs = await task(repo.root, "Held by another")
    await inWorktree(feat, Effect.flatMap(Claims, (c) => c.claim("task", theirs, { owner: "cli-agent" })))
    const before = eventCount()
    await expectFailure(await post(`/api/entities/${theirs}/release`, {}), 409, "not_owner")
    await expectFailure(await post(`/api/entities/${theirs}/release`, { force: true }), 400, "invalid_input")
    expect(eventCount()).toBe(before)
  })

  test("POST /api/entities/:id/notes: a note with the board's actor as author; an empty one is invalid_input (400)", async () => {
    const noted = await task(repo.root, "Noted")
    const r = await reply(await post(`/api/entities/${noted}/notes`, { text: "  tried the BM25 variant  " }))
    expect(r.status).toBe(200)
    expect(r.body.data).toMatchObject({ text: "tried the BM25 variant", author: "board@example.com", worktree: repo.root })
    const detail = await reply(await call(`/api/entities/${noted}`))
    expect(detail.body.data.notes.map((n: any) => n.text)).toEqual(["tried the BM25 variant"])
    const before = eventCount()
    await expectFailure(await post(`/api/entities/${noted}/notes`, { text: "   " }), 400, "invalid_input")
    await expectFailure(await post(`/api/entities/${noted}/notes`, { text: 7 }), 400, "invalid_input")
    expect(eventCount()).toBe(before)
  })

  test("POST /api/conflicts/:id/resolve: a dry run writes nothing, the real one settles, a second is nothing_to_resolve (409)", async () => {
    const target = await task(repo.root, "Contested")
    await makeTitleConflict(repo.root, feat, target)
    const listed = await reply(await call("/api/conflicts"))
    const conflict = listed.body.data.find((c: any) => c.entity.id === target)
    expect(conflict).toMatchObject({ field: "title", ours: "title from main", theirs: "title from feat", mine: true, scope: { branch: "main" } })
    expect(conflict.oursEvent).toMatchObject({ actor: "cli@example.com", worktree: repo.root })
    const before = eventCount()
    const preview = await reply(await post(`/api/conflicts/${conflict.id}/resolve`, { use: "theirs", dryRun: true }))
    expect(preview.body.data.dryRun).toBe(true)
    expect(preview.body.data.resolutions[0].writes).toEqual([{ op: "conflict.resolved", entity: target, field: "title", value: "title from feat" }])
    expect(eventCount()).toBe(before)
    await expectFailure(await post(`/api/conflicts/${conflict.id}/resolve`, { use: "theirs", dryRun: false, expect: [conflict.id + 1] }), 409, "expect_mismatch")
    const done = await reply(await post(`/api/conflicts/${conflict.id}/resolve`, { use: "theirs", dryRun: false, expect: [conflict.id] }))
    expect(done.status).toBe(200)
    expect(eventCount()).toBe(before + 1)
    expect(await inWorktree(repo.root, Effect.flatMap(Conflicts, (c) => c.list()))).toEqual([])
    await expectFailure(await post(`/api/conflicts/${conflict.id}/resolve`, { use: "ours", dryRun: false }), 409, "nothing_to_resolve")
  })
})

describe("live stream", () => {
  /** Reads SSE frames from a stream until `until` matches one, or fails after 5 s. */
  const readFrames = async (response: Response, until: (frame: string) => boolean) => {
    const reader = response.body!.getReader()
    const frames: Array<string> = []
    let buffer = ""
    const deadline = setTimeout(() => reader.cancel(), 5000)
    try {
      while (true) {
        const { value, done } = await reader.read()
        if (done) throw new Error(`stream ended before the expected frame; got ${JSON.stringify(frames)}`)
        buffer += new TextDecoder().decode(value)
        const parts = buffer.split("\n\n")
        buffer = parts.pop()!
        frames.push(...parts)
        const hit = parts.find(until)
        if (hit !== undefined) return hit
      }
    } finally {
      clearTimeout(deadline)
      await reader.cancel().catch(() => {})
    }
  }

  test("GET /api/stream: a write by another process in another worktree arrives as a change with its events", async () => {
    const stream = await call("/api/stream")
    expect(stream.headers.get("content-type")).toBe("text/event-stream")
    const made = await task(feat, "Live one")
    const frame = await readFrames(stream, (f) => f.includes(made))
    const data = JSON.parse(frame.split("\n").find((l) => l.startsWith("data: "))!.slice(6))
    expect(data.events.at(-1)).toMatchObject({ op: "task.created", entityId: made, worktree: feat, branch: "feat", actor: "cli@example.com" })
    expect(frame).toContain(`id: ${data.seq}`)
  })

  test("a reconnect with Last-Event-ID gets the events it missed at once", async () => {
    const from = eventCount()
    const missed = await task(feat, "Missed while away")
    const frame = await readFrames(await call("/api/stream", { headers: { "last-event-id": String(from) } }), (f) => f.includes("event: change"))
    expect(frame).toContain(missed)
  })
})

describe("command line", () => {
  test("--port of a port in use is port_unavailable (exit 1); a port out of range is invalid_input (exit 2)", () => {
    const taken = groveCli(repo.root, ["board", "--port", String(board.port), "--json"])
    expect({ exit: taken.exitCode, code: taken.json?.error?.code }).toEqual({ exit: 1, code: "port_unavailable" })
    const bad = groveCli(repo.root, ["board", "--port", "70000", "--json"])
    expect({ exit: bad.exitCode, code: bad.json?.error?.code }).toEqual({ exit: 2, code: "invalid_input" })
  })
})
