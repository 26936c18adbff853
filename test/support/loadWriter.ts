/**
 * A separate writer process for test/watch.test.ts: `batches` bulk creates of
 * `size` tasks each, one transaction apiece, as fast as it can.
 *
 * usage: bun test/support/loadWriter.ts <worktree> <epic id> <batches> <size>
 */
import { Effect } from "effect"
import { withTracker } from "../../src/app/AppLayer.ts"
import { Bulk } from "../../src/tracker/Bulk.ts"

const [cwd, epic, batches, size] = process.argv.slice(2)
if (cwd === undefined || epic === undefined || batches === undefined || size === undefined) {
  throw new Error("usage: <worktree> <epic> <batches> <size>")
}
for (let b = 0; b < Number(batches); b++) {
  const lines = Array.from({ length: Number(size) }, (_, i) => ({ line: i + 1, value: { title: `load ${b}.${i} ${"x".repeat(200)}` } }))
  await Effect.runPromise(withTracker(cwd)(Effect.flatMap(Bulk, (bulk) => bulk.createMany("task", epic, lines))))
}
