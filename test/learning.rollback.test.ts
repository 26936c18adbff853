/**
 * SQLite gives a rolled-back row's id to the next row inserted, so anything
 * learning caches by seq or id must not serve a rolled-back row's values to
 * the row that reuses its id: an event's writes (src/causality/Heads.ts
 * makeFieldWrites), a frontier (src/causality/Knowledge.ts). One process, as
 * the board and the MCP server run.
 */
import { Database } from "bun:sqlite"
import { describe, expect, it } from "bun:test"
import { Effect } from "effect"
import { draft } from "../src/events/Event.ts"
import { CausalState } from "../src/causality/CausalState.ts"
import { immediateTransaction, Sqlite } from "../src/storage/Sqlite.ts"
import { Tracker } from "../src/tracker/Tracker.ts"
import { Writer } from "../src/write/Writer.ts"
import { fileRepo, inWorktree } from "./support/index.ts"

const repo = fileRepo()

describe("learning after a rollback", () => {
  it("an event that reuses a rolled-back event's seq gets heads for the fields it writes, not the rolled-back event's", async () => {
    const { task } = await inWorktree(repo.root, Effect.gen(function*() {
      const tracker = yield* Tracker
      const epic = yield* tracker.create("epic", undefined, { title: "rollback" })
      const task = yield* tracker.create("task", epic.id, { title: "t" })
      const writer = yield* Writer
      const ref = { kind: "task" as const, id: task.id }
      // Appended, projected and learnt, then rolled back.
      yield* writer.write((emit) => Effect.zipRight(emit([draft("task.updated", ref, { title: "rolled back" })]), Effect.fail("stop" as const))).pipe(
        Effect.flip
      )
      yield* writer.write((emit) => emit([draft("task.updated", ref, { description: "kept" })]))
      return { task: task.id }
    }))
    const db = new Database(repo.db, { readonly: true })
    try {
      const created = db.query("SELECT seq FROM events WHERE entity_id = ? AND op = 'task.created'").get(task) as { seq: number }
      const update = db.query("SELECT seq FROM events WHERE entity_id = ? AND op = 'task.updated'").all(task) as Array<{ seq: number }>
      const heads = db.query("SELECT field FROM heads WHERE entity_id = ? AND event_seq = ?").all(task, update[0]!.seq) as Array<{ field: string }>
      // The kept update took the seq right after the creation: the one the rolled-back update had.
      expect({ updates: update.length, seqAfterCreation: update[0]!.seq - created.seq, headsOfTheUpdate: heads.map((h) => h.field) })
        .toEqual({ updates: 1, seqAfterCreation: 1, headsOfTheUpdate: ["description"] })
    } finally {
      db.close()
    }
  })

  it("a frontier id freed by a rollback and taken by another process's frontier reads as that frontier, not the rolled-back one", async () => {
    const outcome = await inWorktree(repo.root, Effect.gen(function*() {
      const writer = yield* Writer
      const { knowledge } = yield* CausalState
      let rolledBackId = 0
      // Stored (and cached) inside a write, then rolled back.
      yield* writer.write(() => Effect.zipRight(Effect.sync(() => { rolledBackId = knowledge.store({ 999: 1 }) }), Effect.fail("stop" as const))).pipe(
        Effect.flip
      )
      const other = new Database(repo.db)
      try {
        const takenId = (other.query("INSERT INTO frontiers (vector) VALUES (?) RETURNING id").get(JSON.stringify({ 998: 7 })) as { id: number }).id
        return { sameId: takenId === rolledBackId, read: knowledge.byId(takenId) }
      } finally {
        other.close()
      }
    }))
    expect(outcome).toEqual({ sameId: true, read: { 998: 7 } })
  })

  it("a frontier stored in a rebuild's or verify's transaction (outside the write path) that rolls back is not served from the cache either", async () => {
    const outcome = await inWorktree(repo.root, Effect.gen(function*() {
      const { knowledge } = yield* CausalState
      const { db } = yield* Sqlite
      let rolledBackId = 0
      try {
        immediateTransaction(db, () => {
          rolledBackId = knowledge.store({ 997: 3 })
          throw new Error("stop")
        })
      } catch {
        // rolled back
      }
      const other = new Database(repo.db)
      try {
        const takenId = (other.query("INSERT INTO frontiers (vector) VALUES (?) RETURNING id").get(JSON.stringify({ 996: 5 })) as { id: number }).id
        return { sameId: takenId === rolledBackId, read: knowledge.byId(takenId) }
      } finally {
        other.close()
      }
    }))
    expect(outcome).toEqual({ sameId: true, read: { 996: 5 } })
  })
})
