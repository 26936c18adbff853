/**
 * A separate writer process for test/storage.test.ts: opens the database through
 * grove's own Sqlite layer and runs N write transactions, each a read-modify-write
 * of a shared counter plus one inserted row. Lost updates or SQLITE_BUSY show up
 * as a wrong total or a non-zero exit.
 *
 * usage: bun test/support/concurrentWriter.ts <db path> <worker id> <transactions>
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"
import { sqliteAt } from "./effect.ts"

const [path, worker, count] = process.argv.slice(2)
if (path === undefined || worker === undefined || count === undefined) throw new Error("usage: <db> <worker> <n>")

const layer = sqliteAt(path, process.env)

const program = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  for (let i = 0; i < Number(count); i++) {
    yield* sql.withTransaction(Effect.gen(function*() {
      const [row] = yield* sql<{ n: number }>`SELECT n FROM counter WHERE id = 1`
      // Yield between the read and the write so other processes get every chance to interleave.
      yield* Effect.sleep("1 millis")
      yield* sql`UPDATE counter SET n = ${(row?.n ?? 0) + 1} WHERE id = 1`
      yield* sql`INSERT INTO items (worker, i) VALUES (${worker}, ${i})`
    }))
  }
})

await Effect.runPromise(program.pipe(Effect.provide(layer)))
