/**
 * The concurrent reader of the WAL benchmark, run in a Worker: its own
 * bun:sqlite connection polls "an entity's latest events" (what `events list
 * --entity` reads) plus the newest seq, and records each query's latency,
 * until told to stop.
 */
import { Database } from "bun:sqlite"

declare const self: Worker

interface Start {
  readonly type: "start"
  readonly path: string
  readonly entities: ReadonlyArray<string>
  /** Pause between queries, ms. */
  readonly gapMs: number
}

let stopped = false

self.onmessage = (event: MessageEvent<Start | { readonly type: "stop" }>) => {
  const message = event.data
  if (message.type === "stop") {
    stopped = true
    return
  }
  void run(message)
}

const run = async ({ path, entities, gapMs }: Start) => {
  const db = new Database(path, { readwrite: true })
  db.run("PRAGMA busy_timeout = 10000")
  const latest = db.query("SELECT seq, op, payload FROM events WHERE entity_id = ? ORDER BY seq DESC LIMIT 20")
  const newest = db.query("SELECT max(seq) AS seq FROM events")
  const latencies: Array<number> = []
  let seed = 12345
  self.postMessage({ type: "ready" })
  while (!stopped) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    const start = performance.now()
    latest.all(entities[seed % entities.length]!)
    newest.get()
    latencies.push(performance.now() - start)
    await Bun.sleep(gapMs)
  }
  db.close()
  self.postMessage({ type: "done", latencies })
}
