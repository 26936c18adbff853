/**
 * One agent of test/agents.test.ts, as a separate process in its worktree:
 * the loop of docs/agents.md (next --claim, note, done) through the same
 * services the CLI commands run, one write transaction per step, until the
 * epic is finished. The services are built once per process (a CLI process
 * per step would measure process start-up, not the races). Prints one JSON
 * line per task it finished.
 *
 * usage: bun test/support/agentWorker.ts <epic id> <owner>
 */
import { Effect, ManagedRuntime } from "effect"
import { trackerLayer } from "../../src/app/AppLayer.ts"
import { Migrator } from "../../src/migrations/Migrator.ts"
import { Claims } from "../../src/tracker/Claims.ts"
import { Next } from "../../src/tracker/Next.ts"
import { addNote } from "../../src/tracker/Notes.ts"

const [epic, owner] = process.argv.slice(2)
if (epic === undefined || owner === undefined) throw new Error("usage: <epic> <owner>")

const runtime = ManagedRuntime.make(trackerLayer(process.cwd()))
await runtime.runPromise(Effect.flatMap(Migrator, (m) => m.ensureCurrent))
const command = <A, E, R>(effect: Effect.Effect<A, E, R>) => runtime.runPromise(effect as Effect.Effect<A, E, never>)

let idle = 0
for (;;) {
  const next = await command(Effect.flatMap(Next, (n) => n.next({ epic, owner, claim: true })))
  if (next.task === null) {
    if (next.state === "finished") break
    // Waiting on others' work: back off a little, as docs/agents.md says.
    idle++
    await Bun.sleep(20 + Math.random() * 40)
    continue
  }
  const id = next.task.id
  await command(addNote("task", id, `${owner} started ${id}`, { owner }))
  await Bun.sleep(Math.random() * 5)
  const done = await command(Effect.flatMap(Claims, (c) => c.finish("task", id, { owner })))
  process.stdout.write(`${JSON.stringify({ owner, task: id, changed: done.changed, unblocked: done.unblocked.length })}\n`)
}
process.stderr.write(`${owner}: idle polls ${idle}\n`)
await runtime.dispose()
