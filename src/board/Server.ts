import { Effect, Either, type Layer, Runtime, type Scope } from "effect"
import type { trackerLayer } from "../app/AppLayer.ts"
import { GroveError, isGroveFailure } from "../errors/index.ts"
import { Sqlite } from "../storage/Sqlite.ts"
import { endpoints, route } from "./Api.ts"
import { buildAssets, serveAsset } from "./Assets.ts"
import { baseHeaders, failure, json, readBody, UnknownRoute } from "./Http.ts"
import { makeLive } from "./Live.ts"
import { snapshotCache } from "./Snapshot.ts"
import { checkHost, checkOrigin, checkToken, type Guard, newToken, sessionCookie } from "./Security.ts"

export class PortUnavailable extends GroveError("PortUnavailable", "port_unavailable") {}

/** The board's long-lived services: those of a tracker command, over one connection kept open. */
export type BoardServices = Layer.Layer.Success<ReturnType<typeof trackerLayer>>

export interface BoardOptions {
  readonly cwd: string
  readonly host: string
  /** 0: a free port. */
  readonly port: number
  /** How often the live stream looks for commits by other connections. */
  readonly pollMs?: number
}

export interface RunningBoard {
  /** The address to open: it carries the token once, the page then holds it as a cookie. */
  readonly url: string
}

export const isLoopback = (host: string) => host === "localhost" || host === "::1" || /^127\./.test(host)

/** A URL host: IPv6 literals need brackets. */
const urlHost = (host: string) => (host.includes(":") ? `[${host}]` : host)

/**
 * Serves the board until the scope closes. Every request passes the same
 * gate before any handler: Host (DNS rebinding), Origin (cross-site writes),
 * token. Reads use the board's long-lived services; writes open fresh ones per
 * request (Api.ts), as a CLI command would.
 */
export const serveBoard = (options: BoardOptions): Effect.Effect<RunningBoard, PortUnavailable, Scope.Scope | BoardServices> =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<BoardServices>()
    const { db } = yield* Sqlite
    const assets = yield* Effect.promise(buildAssets)
    const live = makeLive(db, options.pollMs ?? 100)
    yield* Effect.addFinalizer(() => Effect.sync(live.close))
    const boardJson = snapshotCache(db)
    boardJson() // computed before the URL is printed: the first page load does not wait for it
    const table = endpoints(options.cwd, boardJson)
    const token = newToken()
    let guard: Guard | undefined

    const run = (effect: Effect.Effect<unknown, unknown, BoardServices>) =>
      Runtime.runPromise(runtime)(Effect.either(effect)).then(
        (result) =>
          Either.isRight(result)
            ? result.right instanceof Response ? result.right : json(result.right)
            : isGroveFailure(result.left) ? failure(result.left) : Promise.reject(result.left)
      )

    const handle = async (request: Request, server: Bun.Server<undefined>): Promise<Response> => {
      const url = new URL(request.url)
      const refused = checkHost(guard!, request) ?? checkOrigin(request) ?? checkToken(guard!, request, url)
      if (refused !== undefined) return failure(refused)
      if (url.searchParams.has("token")) {
        // The printed URL: the token becomes a cookie and leaves the address bar (and history).
        return new Response(null, { status: 303, headers: { ...baseHeaders, location: url.pathname, "set-cookie": sessionCookie(guard!.bound.port, token) } })
      }
      const asset = request.method === "GET" ? assets.get(url.pathname) : undefined
      if (asset !== undefined) return serveAsset(asset)
      if (request.method === "GET" && url.pathname === "/api/stream") {
        server.timeout(request, 0) // a stream is idle between changes by design
        return live.stream(request)
      }
      const found = route(table, request.method, url.pathname)
      if (found === undefined) {
        return failure(new UnknownRoute({ message: `no ${request.method} ${url.pathname} on this board`, details: { method: request.method, path: url.pathname } }))
      }
      const { endpoint, params } = found
      const body = endpoint.body === undefined ? undefined : await readBody(request, endpoint.body)
      if (isGroveFailure(body)) return failure(body)
      return run(endpoint.handle({ params, query: url.searchParams, body }))
    }

    const server = yield* Effect.try({
      try: () =>
        Bun.serve({
          hostname: options.host,
          port: options.port,
          // Above every endpoint's limit (Http.ts checks each), so an oversized body gets a coded 413.
          maxRequestBodySize: 1024 * 1024,
          fetch: (request, server) =>
            handle(request, server).catch((defect: unknown) =>
              failure({ code: "internal", message: `internal error: ${defect instanceof Error ? defect.message : String(defect)}` })
            ),
          error: () => failure({ code: "internal", message: "internal error" })
        }),
      catch: (cause) =>
        new PortUnavailable({
          message: `cannot serve on ${options.host}:${options.port}: ${cause instanceof Error ? cause.message : String(cause)}`,
          details: { host: options.host, port: options.port }
        })
    })
    yield* Effect.addFinalizer(() => Effect.promise(() => server.stop(true)))
    const port = server.port!
    guard = { bound: { host: options.host, port }, token }
    const origin = `http://${urlHost(options.host)}:${port}`
    return { url: `${origin}/?token=${token}` }
  })

