/**
 * A separate writer process for test/storage.test.ts: opens the database through
 * grove's own Sqlite layer and runs N write transactions, each a read-modify-write
 * of a shared counter plus one inserted row. Lost updates or SQLITE_BUSY show up
 * as a wrong total or a non-zero exit.
 *
 * usage: bun test/support/concurrentWriter.ts <db path> <worker id> <transactions>
 */
import { Effect } from "effect"
import { Sqlite } from "../../src/storage/Sqlite.ts"
import { sqliteAt } from "./effect.ts"

const [path, worker, count] = process.argv.slice(2)
if (path === undefined || worker === undefined || count === undefined) throw new Error("usage: <db> <worker> <n>")

const layer = sqliteAt(path, process.env)

const program = Effect.gen(function*() {
  const { db, transaction } = yield* Sqlite
  for (let i = 0; i < Number(count); i++) {
    yield* transaction(Effect.gen(function*() {
      const row = db.query("SELECT n FROM counter WHERE id = 1").get() as { n: number } | null
      // Yield between the read and the write so other processes get every chance to interleave.
      yield* Effect.sleep("1 millis")
      db.query("UPDATE counter SET n = ? WHERE id = 1").run((row?.n ?? 0) + 1)
      db.query("INSERT INTO items (worker, i) VALUES (?, ?)").run(worker, i)
    }))
  }
})

await Effect.runPromise(program.pipe(Effect.provide(layer)))
