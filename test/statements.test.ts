/**
 * bun:sqlite's `Database.query` keeps only the 20 most recently used
 * statements by default; a pull batch runs about twice as many in turn, so
 * every one was prepared again in every batch (src/storage/Sqlite.ts,
 * `queryCacheSize`). A pull of many batches must prepare each statement text
 * once.
 *
 * Without ANALYZE statistics (grove runs none) SQLite gives up the primary key
 * for an OR of three or more key terms and walks the stream's whole heads
 * table for each statement: a 500-term DELETE over 200,000 heads took seconds.
 * No statement a pull runs may walk a stream's heads.
 *
 * An incoming creation's heads are probed only where the log holds a cascaded
 * delete of its entity; that question must be a search of the small partial
 * index of cascaded deletes, not of every event of the entity.
 */
import { Database } from "bun:sqlite"
import { describe, expect, it } from "bun:test"
import { Effect } from "effect"
import * as NodePath from "node:path"
import { rowsInRanges, withCascadeEvents } from "../src/events/log.ts"
import { migrations } from "../src/migrations/list.ts"
import { Sync } from "../src/sync/Sync.ts"
import { Bulk } from "../src/tracker/Bulk.ts"
import { Tracker } from "../src/tracker/Tracker.ts"
import { fileRepo, inWorktree, scratch, seededRandom, withDb } from "./support/index.ts"

const repo = fileRepo()
const temp = scratch("all")

/** Runs `body` while counting, per statement text, how often `query` handed out a statement other than the last one. */
const countingPrepares = async <A>(body: () => Promise<A>) => {
  const original = Database.prototype.query
  const last = new Map<string, unknown>()
  const again = new Map<string, number>()
  Database.prototype.query = function(this: Database, sql: string) {
    const statement = original.call(this, sql)
    const before = last.get(sql)
    if (before !== undefined && before !== statement) again.set(sql, (again.get(sql) ?? 0) + 1)
    last.set(sql, statement)
    return statement
  } as typeof original
  try {
    return {
      result: await body(),
      preparedAgain: [...again].map(([sql, n]) => `${n}x ${sql.replace(/\s+/g, " ").slice(0, 80)}`),
      texts: last.size,
      sqls: [...last.keys()]
    }
  } finally {
    Database.prototype.query = original
  }
}

/** A database file with grove's schema and no events yet: a log a test fills with rows of its own. */
const migratedLog = (name: string) => {
  const db = new Database(NodePath.join(temp.dir(), name), { create: true })
  for (const m of migrations) {
    db.exec(m.up)
    m.upCode?.(db)
  }
  return db
}

/** countingPrepares for a body that runs no effect. */
const countingPreparesSync = <A>(body: () => A) => {
  const original = Database.prototype.query
  const sqls: Array<string> = []
  Database.prototype.query = function(this: Database, sql: string) {
    sqls.push(sql)
    return original.call(this, sql)
  } as typeof original
  try {
    return { result: body(), sqls }
  } finally {
    Database.prototype.query = original
  }
}

/** The statements among `sqls` whose plan walks a stream's whole heads table (a scan, or a search by stream alone), with the step that does. */
const headsWalks = (sqls: ReadonlyArray<string>) =>
  withDb(repo.db, (db) =>
    sqls.flatMap((sql) => {
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`)
      const details = (plan.all(...Array<null>(plan.paramsCount).fill(null)) as Array<{ detail: string }>).map((r) => r.detail)
      plan.finalize()
      const walk = details.find((d) => /^SCAN heads\b/.test(d) || /^SEARCH heads USING PRIMARY KEY \(stream_id=\?\)$/.test(d))
      return walk === undefined ? [] : [`${walk} <- ${sql.replace(/\s+/g, " ").slice(0, 120)}`]
    })
  )

describe("prepared statements", () => {
  it("a pull of 12 batches with conflicts prepares each statement once: none is evicted and prepared again", async () => {
    const feat = repo.addWorktree("feat")
    const ids = await inWorktree(repo.root, Effect.gen(function*() {
      const epic = yield* Effect.flatMap(Tracker, (t) => t.create("epic", undefined, { title: "batches" }))
      const created = yield* Effect.flatMap(Bulk, (b) => b.createMany("task", epic.id, Array.from({ length: 60 }, (_, i) => ({ line: i + 1, value: { title: `t${i}` } }))))
      return created.ids
    }))
    await inWorktree(feat, Effect.flatMap(Sync, (s) => s.pull("main")))
    await inWorktree(repo.root, Effect.forEach(ids.slice(0, 30), (id) => Effect.flatMap(Tracker, (t) => t.update("task", id, { title: `main ${id}` }))))
    await inWorktree(feat, Effect.forEach(ids, (id) => Effect.flatMap(Tracker, (t) => t.update("task", id, { title: `feat ${id}`, owner: "feat" }))))

    const { result, preparedAgain, texts } = await countingPrepares(() => inWorktree(repo.root, Effect.flatMap(Sync, (s) => s.pull("feat", { batchSize: 5 }))))

    expect(result.batches).toBeGreaterThanOrEqual(12)
    expect(result.conflictsCreated).toBe(30)
    // More distinct statements than bun's default cache of 20 ran, so the default would have evicted some.
    expect(texts).toBeGreaterThan(20)
    expect(preparedAgain).toEqual([])
  })

  it("no statement of a pull that replaces heads walks a stream's whole heads table: each finds its heads by key", async () => {
    const feat = repo.addWorktree("heads-feat")
    const ids = await inWorktree(repo.root, Effect.gen(function*() {
      const epic = yield* Effect.flatMap(Tracker, (t) => t.create("epic", undefined, { title: "heads" }))
      return (yield* Effect.flatMap(Bulk, (b) => b.createMany("task", epic.id, Array.from({ length: 40 }, (_, i) => ({ line: i + 1, value: { title: `h${i}` } }))))).ids
    }))
    await inWorktree(feat, Effect.flatMap(Sync, (s) => s.pull("main")))
    // feat retitles every task twice: main's heads of each title are replaced, many per batch.
    for (const round of [1, 2]) {
      await inWorktree(feat, Effect.forEach(ids, (id) => Effect.flatMap(Tracker, (t) => t.update("task", id, { title: `feat ${round} ${id}` }))))
    }

    const { result, sqls } = await countingPrepares(() => inWorktree(repo.root, Effect.flatMap(Sync, (s) => s.pull("heads-feat", { batchSize: 40 }))))
    expect(result.batches).toBeGreaterThanOrEqual(2)
    const onHeads = sqls.filter((sql) => /\bheads\b/.test(sql))
    expect(onHeads.some((sql) => /^\s*DELETE FROM heads/.test(sql))).toBe(true)

    expect(headsWalks(onHeads)).toEqual([])
  })

  it("no statement that learns a stream's own writes walks its whole heads table: the heads they replace are found by key", async () => {
    const ids = await inWorktree(repo.root, Effect.gen(function*() {
      const epic = yield* Effect.flatMap(Tracker, (t) => t.create("epic", undefined, { title: "own" }))
      return (yield* Effect.flatMap(Bulk, (b) => b.createMany("task", epic.id, Array.from({ length: 5 }, (_, i) => ({ line: i + 1, value: { title: `o${i}` } }))))).ids
    }))
    const { sqls } = await countingPrepares(() =>
      inWorktree(repo.root, Effect.forEach(ids, (id) => Effect.flatMap(Tracker, (t) => t.update("task", id, { title: `own ${id}`, owner: "me", description: "three fields: three heads replaced" }))))
    )
    const onHeads = sqls.filter((sql) => /\bheads\b/.test(sql))
    expect(onHeads.some((sql) => /^\s*DELETE FROM heads/.test(sql))).toBe(true)
    expect(headsWalks(onHeads)).toEqual([])
  })

  it("a catch-up reads up to 8 ranges stream by stream (events_by_stream, merged), more in one walk of the seq range; both give the ranges' events in seq order", () => {
    const db = migratedLog("ranges.db")
    try {
      // 12 streams' events interleaved at random, as branches write them into one log.
      const random = seededRandom(15)
      const insert = db.query(
        "INSERT INTO events (seq, id, tx_id, stream_id, clock, entity_kind, entity_id, op, payload, payload_version) VALUES (?, ?, 1, ?, ?, 'task', 't', 'task.updated', '{}', 1)"
      )
      const streamOf: Array<number> = []
      for (let seq = 1; seq <= 600; seq++) {
        streamOf[seq] = 1 + random.int(12)
        insert.run(seq, `ev-${seq}`, streamOf[seq]!, seq)
      }
      const rangesOf = (streams: number) => Array.from({ length: streams }, (_, i) => ({ stream: i + 1, lo: 20 * i, hi: 600 - 15 * i }))
      for (const streams of [1, 3, 8, 9, 12]) {
        const ranges = rangesOf(streams)
        const expected = streamOf.flatMap((s, seq) => ranges.some((r) => r.stream === s && seq > r.lo && seq <= r.hi) ? [seq] : [])
        for (const limit of [7, 1000]) {
          const { result, sqls } = countingPreparesSync(() => rowsInRanges(db, ranges, limit).map((r) => r.seq))
          expect({ streams, limit, seqs: result }).toEqual({ streams, limit, seqs: expected.slice(0, limit) })
          const [sql] = sqls
          const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`)
          const details = (plan.all(...Array<null>(plan.paramsCount).fill(null)) as Array<{ detail: string }>).map((r) => r.detail).join("; ")
          plan.finalize()
          expect({ streams, plan: details }).toEqual({
            streams,
            plan: streams <= 8 ? expect.stringMatching(/^(MERGE \(UNION ALL\); )?.*SEARCH events USING INDEX events_by_stream/) : expect.stringMatching(/^SEARCH events USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)$/)
          })
        }
      }
    } finally {
      db.close()
    }
  })

  it("a pull asks the partial index of cascaded deletes (migration 11) which incoming creations may meet heads, not the log's events by entity", async () => {
    const feat = repo.addWorktree("creations-feat")
    await inWorktree(feat, Effect.gen(function*() {
      const epic = yield* Effect.flatMap(Tracker, (t) => t.create("epic", undefined, { title: "creations" }))
      yield* Effect.flatMap(Bulk, (b) => b.createMany("task", epic.id, Array.from({ length: 20 }, (_, i) => ({ line: i + 1, value: { title: `c${i}` } }))))
    }))

    const { sqls } = await countingPrepares(() => inWorktree(repo.root, Effect.flatMap(Sync, (s) => s.pull("creations-feat"))))
    const probes = sqls.filter((sql) => /cause_id IS NOT NULL/.test(sql))
    expect(probes.length).toBeGreaterThan(0)

    const plans = withDb(repo.db, (db) =>
      probes.map((sql) => {
        const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`)
        const details = (plan.all(...Array<null>(plan.paramsCount).fill(null)) as Array<{ detail: string }>).map((r) => r.detail)
        plan.finalize()
        return details.join("; ")
      })
    )
    for (const plan of plans) expect(plan).toMatch(/^(SCAN|SEARCH) events USING (COVERING )?INDEX events_cascaded_by_entity\b/)
  })

  it("which entities a cascade wrote to: one read of the partial index when the log holds fewer cascaded events than entities asked about, else a search per entity; the same answer", () => {
    const db = migratedLog("cascades.db")
    try {
      const insert = db.query(
        "INSERT INTO events (seq, id, tx_id, stream_id, clock, entity_kind, entity_id, op, payload, payload_version, cause_id) VALUES (?, ?, 1, 1, ?, 'task', ?, ?, '{}', 1, ?)"
      )
      insert.run(1, "ev-1", 1, "e-1", "epic.deleted", null)
      for (const [seq, entity] of [[2, "t-1"], [3, "t-2"], [4, "t-2"], [5, "t-3"]] as const) insert.run(seq, `ev-${seq}`, seq, entity, "task.deleted", "ev-1")
      insert.run(6, "ev-6", 6, "t-4", "task.deleted", null)
      // 4 cascaded events: asking about more entities reads them all, asking about as many or fewer searches each.
      const cases = [["t-1", "t-2", "t-4", "t-5", "t-6"], ["t-2", "t-4", "t-5", "t-3"], ["t-4"], ["t-3"]]
      for (const asked of cases) {
        const { result, sqls } = countingPreparesSync(() => [...withCascadeEvents(db, asked)].sort())
        expect({ asked, cascaded: result }).toEqual({ asked, cascaded: asked.filter((id) => ["t-1", "t-2", "t-3"].includes(id)).sort() })
        expect({ asked, searched: sqls.some((sql) => / IN \(/.test(sql)) }).toEqual({ asked, searched: asked.length <= 4 })
        for (const sql of sqls) {
          const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`)
          const details = (plan.all(...Array<null>(plan.paramsCount).fill(null)) as Array<{ detail: string }>).map((r) => r.detail).join("; ")
          plan.finalize()
          expect(details).toMatch(/^(SCAN|SEARCH) events USING (COVERING )?INDEX events_cascaded_by_entity\b/)
        }
      }
    } finally {
      db.close()
    }
  })
})
