import { Effect } from "effect"
import { Status } from "../events/Event.ts"
import { InvalidInput } from "../errors/index.ts"
import type { Page, PageRequest, PageStart } from "../projections/Queries.ts"
import type { Input } from "./spec.ts"

/**
 * The paging flags of list commands (docs/cli.md, "Paging"): --limit N
 * (default 50), --cursor C from the previous page's meta.pagination.next,
 * --all for every row; --status a,b and --all-statuses choose statuses, open
 * ones (all but done) by default.
 */

export const defaultLimit = 50

/** A cursor is opaque to users: the last row's (created_clock, id), base64url. */
const encodeCursor = (start: PageStart) => Buffer.from(`${start.clock}.${start.id}`).toString("base64url")

const decodeCursor = (cursor: string): PageStart | undefined => {
  const text = Buffer.from(cursor, "base64url").toString("utf8")
  const dot = text.indexOf(".")
  const clock = Number(text.slice(0, dot))
  const id = text.slice(dot + 1)
  return dot > 0 && Number.isSafeInteger(clock) && /^[a-z]-[0-9a-z]+$/.test(id) ? { clock, id } : undefined
}

const invalid = (message: string, flag: string, value?: unknown) =>
  new InvalidInput({ message, details: value === undefined ? { flag } : { flag, value } })

export const pageRequest = (o: Input) =>
  Effect.gen(function*() {
    const all = o.flag("all")
    const limit = o.integer("limit")
    const cursor = o.text("cursor")
    if (all && (limit !== undefined || cursor !== undefined)) return yield* invalid("--all reads every row: give it without --limit or --cursor", "all")
    if (limit !== undefined && limit < 1) return yield* invalid(`--limit must be at least 1, got ${limit}`, "limit", limit)
    const after = cursor === undefined ? undefined : decodeCursor(cursor)
    if (cursor !== undefined && after === undefined) return yield* invalid(`--cursor ${cursor} is not a cursor grove gave (meta.pagination.next)`, "cursor", cursor)
    return { limit: all ? undefined : limit ?? defaultLimit, after } satisfies PageRequest
  })

const openStatuses: ReadonlyArray<Status> = Status.literals.filter((s) => s !== "done")

/** The statuses a list shows: --status a,b, every one with --all-statuses, else the open ones. */
export const statusFilter = (o: Input) =>
  Effect.gen(function*() {
    const raw = o.text("status")
    if (raw !== undefined && o.flag("all-statuses")) return yield* invalid("give --status or --all-statuses, not both", "status")
    if (o.flag("all-statuses")) return undefined
    if (raw === undefined) return openStatuses
    const statuses = raw.split(",").map((s) => s.trim()).filter((s) => s !== "")
    const unknown = statuses.filter((s) => !(Status.literals as ReadonlyArray<string>).includes(s))
    if (statuses.length === 0 || unknown.length > 0) {
      return yield* invalid(`--status takes a comma-separated list of ${Status.literals.join(", ")}; got ${JSON.stringify(raw)}`, "status", raw)
    }
    return statuses as ReadonlyArray<Status>
  })

/** The envelope's meta.pagination and the text footer of a page. */
export const pageMeta = <A>(page: Page<A>, request: PageRequest) => {
  const next = page.next === undefined ? null : encodeCursor(page.next)
  return {
    meta: { pagination: { limit: request.limit ?? null, returned: page.rows.length, total: page.total, next } },
    footer: next === null ? [] : [`(${page.rows.length} of ${page.total}; next page: --cursor ${next})`]
  }
}
