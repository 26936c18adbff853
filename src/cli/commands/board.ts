import { Effect } from "effect"
import { trackerLayer } from "../../app/AppLayer.ts"
import { InvalidInput } from "../../errors/index.ts"
import { Migrator } from "../../migrations/Migrator.ts"
import type { Handler } from "../execute.ts"
import { respond } from "../respond.ts"
import type { Input } from "../spec.ts"

/** Serves until interrupted (Ctrl-C); the URL with its token is the first line printed. */
const board: Handler = (o: Input) =>
  respond(
    "board",
    Effect.gen(function*() {
      const port = o.integer("port") ?? 0
      const host = o.text("host") ?? "127.0.0.1"
      if (port < 0 || port > 65535) return yield* new InvalidInput({ message: `--port must be from 0 to 65535, got ${port}`, details: { flag: "port" } })
      const cwd = process.cwd()
      // Loaded only here: no other command pays for the server and its page.
      const { serveBoard, isLoopback } = yield* Effect.promise(() => import("../../board/Server.ts"))
      yield* Effect.scoped(Effect.gen(function*() {
        yield* Effect.flatMap(Migrator, (m) => m.ensureCurrent)
        const running = yield* serveBoard({ cwd, host, port })
        process.stdout.write(`${running.url}\n`)
        if (!isLoopback(host)) {
          process.stderr.write(`grove board: listening on ${host}, reachable from other machines; anyone with the URL can change tasks\n`)
        }
        if (o.flag("open")) Bun.spawn([process.platform === "darwin" ? "open" : "xdg-open", running.url], { stdout: "ignore", stderr: "ignore" })
        return yield* Effect.never
      }).pipe(Effect.provide(trackerLayer(cwd))))
      return { data: {}, text: "" }
    })
  )

export const handlers: Record<string, Handler> = { board }
