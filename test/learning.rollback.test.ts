/**
 * SQLite gives a rolled-back append's seq to the next event appended, so
 * anything learning caches by seq must not serve a rolled-back event's
 * values to the event that reuses its seq (src/causality/Heads.ts
 * makeFieldWrites). One process, as the board and the MCP server run.
 */
import { Database } from "bun:sqlite"
import { describe, expect, it } from "bun:test"
import { Effect } from "effect"
import { draft } from "../src/events/Event.ts"
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
})
