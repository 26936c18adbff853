import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { trackerLayer } from "../../app/AppLayer.ts"
import { InvalidInput } from "../../errors/index.ts"
import { Migrator } from "../../migrations/Migrator.ts"
import { respond } from "../respond.ts"

const port = Options.integer("port").pipe(Options.withDescription("port to listen on (default 0: a free one)"), Options.withDefault(0))
const host = Options.text("host").pipe(Options.withDescription("address to bind (default 127.0.0.1; anything else is reachable by others)"), Options.withDefault("127.0.0.1"))
const open = Options.boolean("open").pipe(Options.withDescription("open the URL in the default browser (xdg-open / open)"))

/** Serves until interrupted (Ctrl-C); the URL with its token is the first line printed. */
export const board = Command.make("board", { port, host, open }, (o) =>
  respond(
    "board",
    Effect.gen(function*() {
      if (o.port < 0 || o.port > 65535) return yield* new InvalidInput({ message: `--port must be from 0 to 65535, got ${o.port}`, details: { flag: "port" } })
      const cwd = process.cwd()
      // Loaded only here: no other command pays for the server and its page.
      const { serveBoard, isLoopback } = yield* Effect.promise(() => import("../../board/Server.ts"))
      yield* Effect.scoped(Effect.gen(function*() {
        yield* Effect.flatMap(Migrator, (m) => m.ensureCurrent)
        const running = yield* serveBoard({ cwd, host: o.host, port: o.port })
        process.stdout.write(`${running.url}\n`)
        if (!isLoopback(o.host)) {
          process.stderr.write(`grove board: listening on ${o.host}, reachable from other machines; anyone with the URL can change tasks\n`)
        }
        if (o.open) Bun.spawn([process.platform === "darwin" ? "open" : "xdg-open", running.url], { stdout: "ignore", stderr: "ignore" })
        return yield* Effect.never
      }).pipe(Effect.provide(trackerLayer(cwd))))
      return { data: {}, text: "" }
    })
  )).pipe(Command.withDescription("Serve a live web board of the graph, the worktrees and their conflicts (prints its URL with a secret token)."))
