/**
 * Rebuild and verify load the projection with the search triggers off and
 * fill the search rows and their FTS5 index once at the end
 * (src/projections/Search.ts): search must answer after a rebuild exactly as
 * the triggers made it answer before, and the triggers must be back for the
 * writes that follow.
 */
import { describe, expect, it } from "bun:test"
import { Effect } from "effect"
import { Replay } from "../src/projections/Replay.ts"
import { addNote } from "../src/tracker/Notes.ts"
import { Tracker } from "../src/tracker/Tracker.ts"
import { fileRepo, grove, inWorktree, withDb } from "./support/index.ts"

const repo = fileRepo()
const root = repo.root
const hits = (text: string) => (grove(root, ["task", "list", "--search", text, "--json"]).json.data as Array<{ id: string }>).map((h) => h.id).sort()
const triggers = () => withDb(repo.db, (db) => db.query("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").all())

describe("search after rebuild", () => {
  it("finds the same tasks by title, description and note as before the rebuild, not their old titles, and finds what is written after it", async () => {
    const [renamed, described, noted] = await inWorktree(root, Effect.gen(function*() {
      const tracker = yield* Tracker
      const epic = yield* tracker.create("epic", undefined, { title: "Search epic" })
      const a = yield* tracker.create("task", epic.id, { title: "Oldname parser" })
      yield* tracker.update("task", a.id, { title: "Newname parser" })
      const b = yield* tracker.create("task", epic.id, { title: "Lexer", description: "handles unicode boundaries" })
      const c = yield* tracker.create("task", epic.id, { title: "Printer" })
      yield* addNote("task", c.id, "the formatter drops emoji", { owner: "alice" })
      return [a.id, b.id, c.id]
    }))
    const queries = ["newname", "oldname", "unicode", "emoji", "parser"]
    const before = Object.fromEntries(queries.map((q) => [q, hits(q)]))
    expect(before).toEqual({ newname: [renamed], oldname: [], unicode: [described], emoji: [noted], parser: [renamed] })
    const triggersBefore = triggers()

    await inWorktree(root, Effect.flatMap(Replay, (r) => r.rebuild()))

    expect(Object.fromEntries(queries.map((q) => [q, hits(q)]))).toEqual(before)
    expect(triggers()).toEqual(triggersBefore)
    // The FTS5 index agrees with its rows (FTS5's own check fails loudly when it does not).
    withDb(repo.db, (db) => db.run("INSERT INTO search (search) VALUES ('integrity-check')"))
    const report = await inWorktree(root, Effect.flatMap(Replay, (r) => r.verify))
    expect(report.tables.filter((t) => !t.identical).map((t) => t.table)).toEqual([])

    // Writes after the rebuild reach search through the restored triggers.
    await inWorktree(root, Effect.flatMap(Tracker, (t) => t.update("task", renamed, { title: "Thirdname parser" })))
    expect([hits("thirdname"), hits("newname")]).toEqual([[renamed], []])
  })
})
