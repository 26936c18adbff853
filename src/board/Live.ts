import type { Database } from "bun:sqlite"
import { eventsAfter } from "./Activity.ts"
import { baseHeaders } from "./Http.ts"
import { dataVersion, latestSeq } from "./Snapshot.ts"

/** More new events than this in one update: the page reloads its data instead of applying a list. */
const maxEventsPerUpdate = 200

const encoder = new TextEncoder()

/** One Server-Sent Event: `id` is the newest seq the page has seen, for Last-Event-ID on reconnect. */
const frame = (db: Database, after: number) => {
  const events = eventsAfter(db, after, maxEventsPerUpdate + 1)
  const seq = events.length > maxEventsPerUpdate ? latestSeq(db) : events.at(-1)?.seq ?? after
  const data = { seq, events: events.slice(0, maxEventsPerUpdate), reload: events.length > maxEventsPerUpdate }
  return { seq, bytes: encoder.encode(`id: ${seq}\nevent: change\ndata: ${JSON.stringify(data)}\n\n`) }
}

type Client = { readonly send: (bytes: Uint8Array) => void; seq: number }

/** Sends a client what happened since its seq and moves it on. */
const update = (db: Database, client: Client) => {
  const { seq, bytes } = frame(db, client.seq)
  client.seq = seq
  client.send(bytes)
}

/**
 * The live stream. One poller per board looks at `PRAGMA data_version` on the
 * board's read connection, which changes whenever any other connection (any
 * grove process in any worktree, and the board's own writes, which open their
 * own) commits. Each change is pushed to every open page: the new events, or
 * an empty list when only conflicts or knowledge changed (a pull).
 */
export const makeLive = (db: Database, pollMs: number) => {
  const clients = new Set<Client>()
  let seen = dataVersion(db)
  const poll = setInterval(() => {
    try {
      const now = dataVersion(db)
      if (now !== seen && clients.size > 0) for (const client of clients) update(db, client)
      seen = now
    } catch {
      // A read that fails (the file busy past the timeout) is retried on the next tick: `seen` did not move.
    }
  }, pollMs)
  // Proxies and browsers drop a silent connection; a comment line keeps it open.
  const keepAlive = setInterval(() => {
    for (const client of clients) client.send(encoder.encode(": keep-alive\n\n"))
  }, 15000)

  /** A page's stream, from `Last-Event-ID` (a reconnect catches up at once) or from now. */
  const stream = (request: Request) => {
    const last = Number(request.headers.get("last-event-id") ?? Number.NaN)
    let client: Client | undefined
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const send = (bytes: Uint8Array) => {
          try {
            controller.enqueue(bytes)
          } catch {
            clients.delete(client!) // the page went away between two updates
          }
        }
        client = { send, seq: Number.isInteger(last) && last >= 0 ? last : latestSeq(db) }
        clients.add(client)
        controller.enqueue(encoder.encode("retry: 500\n\n"))
        if (client.seq < latestSeq(db)) update(db, client)
        request.signal.addEventListener("abort", () => {
          clients.delete(client!)
          try {
            controller.close()
          } catch {
            // already closed by the client going away
          }
        })
      },
      cancel() {
        clients.delete(client!)
      }
    })
    return new Response(body, { headers: { ...baseHeaders, "content-type": "text/event-stream", connection: "keep-alive" } })
  }

  const close = () => {
    clearInterval(poll)
    clearInterval(keepAlive)
    clients.clear()
  }
  return { stream, close }
}
