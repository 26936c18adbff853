/**
 * A separate writer process for test/events.test.ts: waits until a common start
 * time, then creates N tasks under an epic, each as its own grove command
 * (withTracker: its own layer, connection, git context and transaction), the
 * way N consecutive `grove task create` invocations would.
 *
 * usage: bun test/support/taskWriter.ts <worktree> <epic id> <count> <start at, epoch ms>
 */
import { Effect } from "effect"
import { withTracker } from "../../src/app/AppLayer.ts"
import { Tracker } from "../../src/tracker/Tracker.ts"

const [cwd, epic, count, startAt] = process.argv.slice(2)
if (cwd === undefined || epic === undefined || count === undefined || startAt === undefined) {
  throw new Error("usage: <worktree> <epic> <count> <start at>")
}

await Bun.sleep(Math.max(0, Number(startAt) - Date.now()))
for (let i = 0; i < Number(count); i++) {
  await Effect.runPromise(withTracker(cwd)(Effect.flatMap(Tracker, (t) => t.create("task", epic, { title: `task ${i}` }))))
}
