import { describe, expect, it } from "bun:test"
import { type Operation, decodePayload, operationNames } from "../src/events/operations.ts"
import { spawn } from "bun"
import { Effect, Either } from "effect"
import * as fc from "fast-check"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { logicalSlots, nextStamps, wallTimeOf } from "../src/events/hlc.ts"
import { Bulk } from "../src/tracker/Bulk.ts"
import { Tracker } from "../src/tracker/Tracker.ts"
import { countRows, eventsAfter, failureIn, fileRepo, git, inWorktree, lastSeq, scratch, withDb, withEnv } from "./support/index.ts"

const repo = fileRepo()
const scratchRepos = scratch("all")

const createEpic = (cwd: string, title = "epic") =>
  inWorktree(cwd, Effect.flatMap(Tracker, (t) => t.create("epic", undefined, { title })))

const ref = (id: string) => ({ kind: "task" as const, id })

/** For every operation: a payload its Schema accepts and payloads it must refuse. */
const samples: Record<Operation, { readonly valid: unknown; readonly invalid: ReadonlyArray<unknown> }> = {
  "epic.created": {
    valid: { title: "Ship it", description: "", status: "todo" },
    invalid: [
      { description: "", status: "todo" },
      { title: 7, description: "", status: "todo" },
      { title: "t", description: "", status: "finished" },
      { title: "   ", description: "", status: "todo" }
    ]
  },
  "epic.updated": {
    valid: { title: "renamed" },
    invalid: [{ status: "finished" }, { title: 1 }, { description: null }, null]
  },
  "epic.deleted": { valid: {}, invalid: [null, "gone", 3, [], { title: "x" }] },
  "task.created": {
    valid: { epic: "e-1", title: "t", description: "d", status: "todo", owner: null },
    invalid: [
      { title: "t", description: "d", status: "todo", owner: null },
      { epic: "e-1", title: "t", description: "d", status: "todo" },
      { epic: "e-1", title: "t", description: "d", status: "nope", owner: null },
      { epic: 1, title: "t", description: "d", status: "todo", owner: null }
    ]
  },
  "task.updated": {
    valid: { status: "in_progress", owner: null },
    invalid: [{ status: "doing" }, { owner: 5 }, { title: "" }, "x"]
  },
  "task.claimed": {
    valid: { owner: "agent", status: "in_progress" },
    invalid: [{ status: "in_progress" }, { owner: "agent", status: "done" }, { owner: null, status: "in_progress" }]
  },
  "task.deleted": { valid: {}, invalid: [null, "gone", 3, [], { title: "x" }] },
  "subtask.created": {
    valid: { task: "t-1", title: "s", description: "", status: "blocked", owner: "me" },
    invalid: [
      { title: "s", description: "", status: "todo", owner: null },
      { task: "t-1", title: "s", description: "", status: "paused", owner: null },
      { task: "t-1", title: "s", description: 3, status: "todo", owner: null }
    ]
  },
  "subtask.updated": {
    valid: { title: "renamed", description: "more" },
    invalid: [{ status: "cancelled" }, { owner: [] }, undefined]
  },
  "subtask.deleted": { valid: {}, invalid: [null, "gone", 3, [], { title: "x" }] },
  "subtask.claimed": {
    valid: { owner: "agent", status: "in_progress" },
    invalid: [{ status: "in_progress" }, { owner: "agent", status: "todo" }]
  },
  "task.leased": { valid: { owner: "agent", lease: 60_000 }, invalid: [{ owner: "agent" }, { owner: "agent", lease: 0 }, { owner: "a", lease: 1.5 }] },
  "subtask.leased": { valid: { owner: "agent", lease: 1 }, invalid: [{ lease: 5 }, { owner: "agent", lease: -1 }] },
  "task.noted": { valid: { text: "found the bug", author: "agent" }, invalid: [{ author: "a" }, { text: "   ", author: "a" }, { text: 3, author: "a" }, { text: "x" }] },
  "subtask.noted": { valid: { text: "x", author: "a" }, invalid: [{ text: "", author: "a" }, null] },
  "epic.planned": {
    valid: { plan: "search", keys: { e: { kind: "epic", id: "e-1" }, t1: { kind: "task", id: "t-1" } } },
    invalid: [{ plan: "p" }, { plan: "p", keys: { t: { kind: "dependency", id: "x" } } }, { keys: {} }]
  },
  "dependency.added": {
    valid: { source: ref("t-1"), target: { kind: "subtask", id: "s-1" } },
    invalid: [
      { source: ref("t-1") },
      { source: { kind: "epic", id: "e-1" }, target: ref("t-2") },
      { source: ref("t-1"), target: { kind: "task" } },
      { source: "t-1", target: "t-2" }
    ]
  },
  "dependency.removed": {
    valid: { source: ref("t-1"), target: ref("t-2") },
    invalid: [{ target: ref("t-2") }, { source: ref("t-1"), target: { kind: "task", id: 2 } }, {}]
  },
  "stream.learnt": {
    valid: { via: "pull", source: "feature" },
    invalid: [{ via: "merge", source: "feature" }, { via: "fork" }, { via: "pull", source: 3 }]
  },
  "conflict.resolved": {
    valid: { conflict: 3, field: "title", value: "kept", version: 4 },
    invalid: [
      { field: "title", value: "kept" },
      { conflict: "3", field: "title", value: "kept" },
      { conflict: 3, field: 1, value: "kept" },
      { conflict: 3, field: "title", value: "kept", version: "4" },
      { conflict: 3, field: "existence", value: true, restored: "all" },
      { conflict: 3, field: "existence", value: true, createdClock: "early" }
    ]
  }
}

describe("payload schemas", () => {
  it("cover exactly the operations the log knows", () => {
    expect(Object.keys(samples).sort()).toEqual([...operationNames].sort())
  })

  for (const op of operationNames) {
    it(`${op}: a valid payload decodes, invalid ones are refused with invalid_payload`, () => {
      const sample = samples[op]
      const ok = decodePayload(op, sample.valid)
      expect(Either.isRight(ok)).toBe(true)
      expect(sample.invalid.length).toBeGreaterThan(0)
      for (const payload of sample.invalid) {
        const refused = decodePayload(op, payload)
        if (Either.isRight(refused)) throw new Error(`${op} accepted ${JSON.stringify(payload)}`)
        expect(refused.left.code).toBe("invalid_payload")
        expect(refused.left.details).toEqual({ op })
        expect(refused.left.message).toStartWith(`invalid ${op} payload: `)
      }
    })
  }

  it("decoding trims titles", () => {
    const r = decodePayload("epic.created", { title: "  Ship it  ", description: "", status: "todo" })
    expect(Either.getOrThrow(r)).toEqual({ title: "Ship it", description: "", status: "todo" })
  })

  it("an unknown operation is refused with invalid_payload, even with a payload another op accepts", () => {
    for (const op of ["epic.archived", "task", "", "dependency.added.extra"]) {
      const r = decodePayload(op, {})
      if (Either.isRight(r)) throw new Error(`accepted unknown op ${op}`)
      expect(r.left.code).toBe("invalid_payload")
      expect(r.left.message).toContain("unknown operation")
      expect(r.left.details).toEqual({ op })
    }
  })
})

describe("git context stamping", () => {
  it("an event written in a linked worktree on feature/x carries that stream, worktree, head and GROVE_ACTOR", async () => {
    const wt = repo.addWorktree("feature/x")
    const before = lastSeq(repo.db) // 0 on a fresh database: creating it is part of the first command
    const wallBefore = Date.now()
    const epic = await withEnv({ GROVE_ACTOR: "agent-7" }, () => createEpic(wt, "stamped"))
    const [e, ...rest] = eventsAfter(repo.db, before)
    expect(rest).toEqual([])
    expect(e).toMatchObject({
      op: "epic.created",
      entity_kind: "epic",
      entity_id: epic.id,
      stream: "feature/x",
      worktree: wt,
      head: git(wt, "rev-parse", "HEAD"),
      actor: "agent-7"
    })
    // The clock is never behind wall time.
    expect(wallTimeOf(e!.clock)).toBeGreaterThanOrEqual(wallBefore)
    expect(e!.id).toMatch(/^[0-9a-hjkmnp-tv-z]{26}$/)
  })

  it("without GROVE_ACTOR the actor is the repository's git user.email", async () => {
    const wt = repo.addWorktree("feature/actor")
    git(wt, "config", "user.email", "someone@example.org")
    try {
      const before = lastSeq(repo.db)
      await withEnv({ GROVE_ACTOR: undefined }, () => createEpic(wt))
      const [e] = eventsAfter(repo.db, before)
      expect(e?.actor).toBe("someone@example.org")
      expect(e?.stream).toBe("feature/actor")
      // An empty GROVE_ACTOR counts as unset.
      const mid = lastSeq(repo.db)
      await withEnv({ GROVE_ACTOR: "" }, () => createEpic(wt))
      expect(eventsAfter(repo.db, mid)[0]?.actor).toBe("someone@example.org")
    } finally {
      git(wt, "config", "user.email", "dev@example.com")
    }
  })

  it("on a detached HEAD the stream is detached@<sha>, never null", async () => {
    const wt = repo.addWorktree("feature/detach")
    git(wt, "checkout", "-q", "--detach")
    const sha = git(wt, "rev-parse", "HEAD")
    const before = lastSeq(repo.db)
    await createEpic(wt)
    const [e] = eventsAfter(repo.db, before)
    expect(e?.stream).toBe(`detached@${sha}`)
    expect(e?.head).toBe(sha)
    expect(e?.worktree).toBe(wt)
  })

  it("notices HEAD changes between commands: a new commit moves head, a branch switch moves the stream", async () => {
    const wt = repo.addWorktree("feature/moving")
    const first = lastSeq(repo.db)
    const epic = await createEpic(wt)
    const head1 = git(wt, "rev-parse", "HEAD")
    expect(eventsAfter(repo.db, first)[0]).toMatchObject({ stream: "feature/moving", head: head1 })

    NodeFs.writeFileSync(NodePath.join(wt, "change.txt"), "change\n")
    git(wt, "add", "change.txt")
    git(wt, "commit", "-q", "-m", "change")
    const head2 = git(wt, "rev-parse", "HEAD")
    expect(head2).not.toBe(head1)
    const second = lastSeq(repo.db)
    await inWorktree(wt, Effect.flatMap(Tracker, (t) => t.update("epic", epic.id, { title: "after commit" })))
    expect(eventsAfter(repo.db, second)[0]).toMatchObject({ stream: "feature/moving", head: head2, op: "epic.updated" })

    git(wt, "checkout", "-q", "-b", "feature/moved")
    const third = lastSeq(repo.db)
    await inWorktree(wt, Effect.flatMap(Tracker, (t) => t.update("epic", epic.id, { title: "after switch" })))
    expect(eventsAfter(repo.db, third)[0]).toMatchObject({ stream: "feature/moved", head: head2, worktree: wt })
  })
})

describe("transactions", () => {
  it("a 1,000-entity bulk create persists its git context once: one transactions row, 1,000 events with its tx_id", async () => {
    const wt = repo.addWorktree("feature/bulk")
    const epic = await createEpic(wt)
    const txBefore = countRows(repo.db, "transactions")
    const seqBefore = lastSeq(repo.db)
    const lines = Array.from({ length: 1000 }, (_, i) => ({ line: i + 1, value: { title: `bulk ${i}` } }))
    const result = await inWorktree(wt, Effect.flatMap(Bulk, (b) => b.createMany("task", epic.id, lines)))
    expect(result.created).toBe(1000)
    expect(countRows(repo.db, "transactions")).toBe(txBefore + 1)
    const added = eventsAfter(repo.db, seqBefore)
    expect(added).toHaveLength(1000)
    const txIds = new Set(added.map((e) => e.tx_id))
    expect(txIds.size).toBe(1)
    const [txId] = txIds
    expect(countRows(repo.db, "events", `WHERE tx_id = ${txId}`)).toBe(1000)
    expect(new Set(added.map((e) => e.op))).toEqual(new Set(["task.created"]))
    expect(new Set(added.map((e) => e.entity_id))).toEqual(new Set(result.ids))
    expect(added[0]).toMatchObject({ stream: "feature/bulk", worktree: wt })
  })

  it("a failed command writes no transactions row", async () => {
    const txBefore = countRows(repo.db, "transactions")
    const seqBefore = lastSeq(repo.db)
    const failure = await failureIn(repo.root, Effect.flatMap(Tracker, (t) => t.update("task", "t-missing", { title: "x" })))
    expect(failure.code).toBe("not_found")
    expect(countRows(repo.db, "transactions")).toBe(txBefore)
    expect(lastSeq(repo.db)).toBe(seqBefore)
  })
})

describe("hybrid logical clock", () => {
  it("clocks strictly increase in seq order across 4 concurrent writer processes", async () => {
    const r = scratchRepos.repo()
    const epic = await createEpic(r.root)
    const worktrees = ["w0", "w1", "w2", "w3"].map((b) => r.addWorktree(`writers/${b}`))
    const perWriter = 25
    const startAt = Date.now() + 1200
    const writers = worktrees.map((wt) =>
      spawn([process.execPath, NodePath.join(import.meta.dir, "support", "taskWriter.ts"), wt, epic.id, String(perWriter), String(startAt)], {
        cwd: wt,
        stdout: "pipe",
        stderr: "pipe"
      })
    )
    const results = await Promise.all(writers.map(async (p) => ({ code: await p.exited, stderr: await new Response(p.stderr).text() })))
    for (const res of results) expect(res).toEqual({ code: 0, stderr: "" })

    const events = eventsAfter(r.db)
    expect(events).toHaveLength(1 + 4 * perWriter)
    for (let i = 1; i < events.length; i++) {
      expect(events[i]!.seq).toBe(events[i - 1]!.seq + 1)
      if (events[i]!.clock <= events[i - 1]!.clock) {
        throw new Error(`clock went backwards at seq ${events[i]!.seq}: ${events[i - 1]!.clock} then ${events[i]!.clock}`)
      }
    }
    expect(new Set(events.map((e) => e.clock)).size).toBe(events.length)
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length)
    expect(new Set(events.map((e) => e.entity_id)).size).toBe(events.length)
    const perStream = new Map<string, number>()
    for (const e of events.slice(1)) perStream.set(e.stream, (perStream.get(e.stream) ?? 0) + 1)
    expect(Object.fromEntries(perStream)).toEqual(Object.fromEntries(worktrees.map((_, i) => [`writers/w${i}`, perWriter])))
    // The writers really ran at the same time: serial runs would switch streams only 3 times.
    let switches = 0
    for (let i = 2; i < events.length; i++) if (events[i]!.stream !== events[i - 1]!.stream) switches++
    expect(switches).toBeGreaterThan(3)
    // The stored last stamp is the newest clock.
    expect(withDb(r.db, (db) => (db.query("SELECT last FROM hlc").get() as { last: number }).last)).toBe(events.at(-1)!.clock)
  }, 30_000)

  it("nextStamps is never behind wall time and strictly after the last stamp", () => {
    // Stamps are wall ms * 4096 as a JS number: exact only while below 2^53, i.e. wall times before
    // 2039-09 (2^41 ms). The property covers 1970 up to 2039-01-01.
    const horizon = Date.UTC(2039, 0, 1)
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: horizon * logicalSlots }),
        fc.integer({ min: 0, max: horizon }),
        fc.integer({ min: 1, max: 10_000 }),
        (last, now, count) => {
          const s = nextStamps(last, now, count)
          expect(s.first).toBeGreaterThan(last)
          expect(s.first).toBeGreaterThanOrEqual(now * logicalSlots)
          expect(wallTimeOf(s.first)).toBeGreaterThanOrEqual(now)
          expect(s.last - s.first).toBe(count - 1)
          // A follow-up call continues strictly after, even if the wall clock went backwards.
          const again = nextStamps(s.last, now - 1000, 1)
          expect(again.first).toBe(s.last + 1)
        }
      )
    )
    // Concrete cases: wall time ahead of the last stamp, and the last stamp ahead of wall time.
    expect(nextStamps(5, 10, 3)).toEqual({ first: 10 * logicalSlots, last: 10 * logicalSlots + 2 })
    expect(nextStamps(10 * logicalSlots + 7, 10, 1)).toEqual({ first: 10 * logicalSlots + 8, last: 10 * logicalSlots + 8 })
    expect(wallTimeOf(10 * logicalSlots + logicalSlots - 1)).toBe(10)
  })
})

describe("append-only log", () => {
  it("the database refuses UPDATE and DELETE on events, and nothing changes", async () => {
    await createEpic(repo.root, "immutable")
    withDb(repo.db, (db) => {
      const snapshot = () => db.query("SELECT * FROM events ORDER BY seq").all()
      const before = snapshot()
      expect(before.length).toBeGreaterThan(0)
      expect(() => db.run("UPDATE events SET op = 'epic.deleted'")).toThrow("grove events are append-only")
      expect(() => db.run("UPDATE events SET payload = '{}' WHERE seq = 1")).toThrow("grove events are append-only")
      expect(() => db.run("DELETE FROM events WHERE seq = 1")).toThrow("grove events are append-only")
      expect(() => db.run("DELETE FROM events")).toThrow("grove events are append-only")
      expect(snapshot()).toEqual(before)
    })
  })
})
