import { timingSafeEqual } from "node:crypto"
import { isIP } from "node:net"
import { GroveError } from "../errors/index.ts"

export class TokenRequired extends GroveError("TokenRequired", "token_required") {}
export class HostRejected extends GroveError("HostRejected", "host_rejected") {}
export class OriginRejected extends GroveError("OriginRejected", "origin_rejected") {}

/** Per port: cookies are shared by every port of a host, and two boards may run side by side. */
export const cookieName = (port: number) => `grove_board_${port}`

/** A per-run secret: 32 random bytes, base64url. */
export const newToken = (): string => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")

/** The cookie the URL token becomes: the page's scripts never see it, and no other site's request carries it. */
export const sessionCookie = (port: number, token: string) => `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

const cookieToken = (header: string | null, port: number) => {
  for (const part of (header ?? "").split(";")) {
    const [name, ...rest] = part.trim().split("=")
    if (name === cookieName(port)) return rest.join("=")
  }
  return undefined
}

/** The tokens a request presents: the cookie, a bearer header (scripts), `?token=` (the printed URL). */
const presented = (guard: Guard, request: Request, url: URL) => {
  const auth = request.headers.get("authorization")
  return [
    cookieToken(request.headers.get("cookie"), guard.bound.port),
    auth?.startsWith("Bearer ") ? auth.slice("Bearer ".length) : undefined,
    url.searchParams.get("token") ?? undefined
  ].filter((t): t is string => t !== undefined)
}

export interface Guard {
  /** `host:port` the server is bound to, as a browser would write it in Host. */
  readonly bound: { readonly host: string; readonly port: number }
  readonly token: string
}

const hostnameOf = (host: string) => host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.replace(/:\d+$/, "")
const portOf = (host: string) => {
  const m = /:(\d+)$/.exec(host.startsWith("[") ? host.slice(host.indexOf("]") + 1) : host)
  return m === null ? 80 : Number(m[1])
}

/**
 * DNS rebinding works through a name the attacker controls, so a Host is
 * trusted only on the board's port and when it is an IP literal, `localhost`,
 * or the name given with --host.
 */
export const checkHost = (guard: Guard, request: Request): HostRejected | undefined => {
  const host = request.headers.get("host") ?? ""
  const name = hostnameOf(host).toLowerCase()
  const trusted = isIP(name) !== 0 || name === "localhost" || name === guard.bound.host.toLowerCase()
  return trusted && portOf(host) === guard.bound.port
    ? undefined
    : new HostRejected({ message: `Host ${JSON.stringify(host)} is not this board's address`, details: { host } })
}

/** A browser names a request's origin; any other than the board's own (the Host it was sent to) is cross-site. */
export const checkOrigin = (request: Request): OriginRejected | undefined => {
  const origin = request.headers.get("origin")
  const site = request.headers.get("sec-fetch-site")
  if (site === "cross-site" || site === "same-site") {
    return new OriginRejected({ message: `cross-site request refused (Sec-Fetch-Site: ${site})`, details: { site } })
  }
  if (origin === null) return undefined
  return origin === `http://${request.headers.get("host")}`
    ? undefined
    : new OriginRejected({ message: `Origin ${JSON.stringify(origin)} is not this board`, details: { origin } })
}

export const checkToken = (guard: Guard, request: Request, url: URL): TokenRequired | undefined => {
  const tokens = presented(guard, request, url)
  return tokens.some((t) => sameSecret(t, guard.token))
    ? undefined
    : new TokenRequired({
      message: tokens.length === 0 ? "this board needs its token: open the URL grove board printed" : "wrong board token",
      details: {}
    })
}
