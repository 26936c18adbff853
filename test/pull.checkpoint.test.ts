/**
 * A pull's batches run with the automatic checkpoint moved to 64 MiB and pay
 * for their WAL once, at the end (src/storage/Wal.ts,
 * `withBatchRunCheckpoints`); the connection's own setting (1,000 pages,
 * DESIGN.md section 3) is back afterwards, whether the pull succeeded or not.
 */
import { describe, expect, it } from "bun:test"
import { Effect } from "effect"
import { Sqlite } from "../src/storage/Sqlite.ts"
import { Sync } from "../src/sync/Sync.ts"
import { Bulk } from "../src/tracker/Bulk.ts"
import { Tracker } from "../src/tracker/Tracker.ts"
import { fileRepo, inWorktree } from "./support/index.ts"

const repo = fileRepo()
const feat = repo.addWorktree("feat")

const autocheckpoint = Effect.map(Sqlite, ({ db }) => (db.query("PRAGMA wal_autocheckpoint").get() as { wal_autocheckpoint: number }).wal_autocheckpoint)

/** feat creates `n` tasks for main to pull. */
const featCreates = (n: number) =>
  inWorktree(feat, Effect.gen(function*() {
    const epic = yield* Effect.flatMap(Tracker, (t) => t.create("epic", undefined, { title: "pulled" }))
    yield* Effect.flatMap(Bulk, (b) => b.createMany("task", epic.id, Array.from({ length: n }, (_, i) => ({ line: i + 1, value: { title: `t${i}` } }))))
  }))

describe("a pull's checkpoints", () => {
  it("batches run with the automatic checkpoint at 16,384 pages; after the pull it is 1,000 again", async () => {
    await featCreates(40)
    const seen = await inWorktree(repo.root, Effect.gen(function*() {
      const before = yield* autocheckpoint
      const during: Array<number> = []
      const sqlite = yield* Sqlite
      const report = yield* Effect.flatMap(Sync, (s) =>
        s.pull("feat", { batchSize: 10, onProgress: () => during.push((sqlite.db.query("PRAGMA wal_autocheckpoint").get() as { wal_autocheckpoint: number }).wal_autocheckpoint) }))
      return { before, during, after: yield* autocheckpoint, batches: report.batches }
    }))
    expect(seen.batches).toBeGreaterThanOrEqual(4)
    expect(seen.before).toBe(1000)
    expect(new Set(seen.during)).toEqual(new Set([16_384]))
    expect(seen.after).toBe(1000)
  })

  it("a pull that fails between batches puts the setting back too", async () => {
    await featCreates(40)
    const seen = await inWorktree(repo.root, Effect.gen(function*() {
      const failed = yield* Effect.flatMap(Sync, (s) => s.pull("feat", { batchSize: 10, onProgress: () => { throw new Error("stop here") } })).pipe(
        Effect.catchAllDefect((d) => Effect.succeed(String(d)))
      )
      return { failed, after: yield* autocheckpoint }
    }))
    expect(seen.failed).toContain("stop here")
    expect(seen.after).toBe(1000)
  })
})
