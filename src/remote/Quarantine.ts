import { Context, Effect, Layer } from "effect"
import { InvalidInput, NotFound } from "../errors/index.ts"
import { trySqlite } from "../storage/errors.ts"
import { Sqlite } from "../storage/Sqlite.ts"
import { Remote } from "./Remote.ts"

/**
 * What grove holds back: grove refs a fetch refused (`remote_quarantine`,
 * ids `r<N>`) and stored events whose payload fails its Schema (`quarantine`,
 * ids `e<seq>`). Refs can be retried (fetched and checked again) or dropped
 * (ignored at their current tip until the ref moves); events stay in the
 * append-only log and are only listed.
 */
export interface QuarantinedRef {
  readonly id: string
  readonly remote: string
  readonly ref: string
  readonly tip: string
  readonly code: string
  readonly detail: string
  readonly at: string
  /** When the user dropped it (fetch then ignores the ref at this tip), else null. */
  readonly droppedAt: string | null
}

export interface QuarantinedEvent {
  readonly id: string
  readonly seq: number
  readonly eventId: string
  readonly stream: string
  readonly op: string
  readonly reason: string
  readonly detail: string
  readonly at: string
}

export interface QuarantineList {
  readonly refs: ReadonlyArray<QuarantinedRef>
  readonly events: ReadonlyArray<QuarantinedEvent>
}

export interface RetryReport {
  readonly ref: QuarantinedRef
  /** The ref verified this time and its events were imported. */
  readonly accepted: boolean
  /** Why it is still refused, when it is. */
  readonly refusal: { readonly code: string; readonly detail: string } | null
  readonly imported: number
}

interface RefRow {
  readonly id: number
  readonly remote: string
  readonly ref: string
  readonly tip: string
  readonly code: string
  readonly detail: string
  readonly quarantined_at: number
  readonly dropped_at: number | null
}

const iso = (ms: number) => new Date(ms).toISOString()
const refView = (r: RefRow): QuarantinedRef => ({
  id: `r${r.id}`,
  remote: r.remote,
  ref: r.ref,
  tip: r.tip,
  code: r.code,
  detail: r.detail,
  at: iso(r.quarantined_at),
  droppedAt: r.dropped_at === null ? null : iso(r.dropped_at)
})

const idPattern = /^([re])([1-9][0-9]*)$/

export class Quarantine extends Context.Tag("grove/Quarantine")<Quarantine, ReturnType<typeof makeQuarantine>>() {
  static readonly layer = Layer.effect(
    Quarantine,
    Effect.gen(function*() {
      return makeQuarantine(yield* Sqlite, yield* Remote)
    })
  )
}

const makeQuarantine = ({ db }: typeof Sqlite.Service, remote: typeof Remote.Service) => {
  const refRows = (where: string, ...params: Array<string | number>) =>
    db.query(`SELECT id, remote, ref, tip, code, detail, quarantined_at, dropped_at FROM remote_quarantine ${where} ORDER BY id`)
      .all(...params) as Array<RefRow>

  const eventRows = (where: string, ...params: Array<number>) =>
    (db.query(
      `SELECT q.event_seq AS seq, e.id AS eventId, s.name AS stream, e.op, q.reason, q.detail, q.quarantined_at AS at
       FROM quarantine q JOIN events e ON e.seq = q.event_seq JOIN streams s ON s.id = e.stream_id ${where} ORDER BY q.event_seq`
    ).all(...params) as Array<Omit<QuarantinedEvent, "id" | "at"> & { at: number }>).map((r) => ({ ...r, id: `e${r.seq}`, at: iso(r.at) }))

  const list = trySqlite((): QuarantineList => ({ refs: refRows("").map(refView), events: eventRows("") }))

  const parse = (id: string) =>
    Effect.gen(function*() {
      const m = idPattern.exec(id)
      if (m === null) {
        return yield* new InvalidInput({ message: `${id} is not a quarantine id: refs are r<N>, events e<N> (see sync quarantine list)`, details: { id } })
      }
      return { kind: m[1] === "r" ? "ref" as const : "event" as const, n: Number(m[2]) }
    })

  const refById = (n: number, id: string) =>
    Effect.gen(function*() {
      const row = yield* trySqlite(() => refRows("WHERE id = ?", n)[0])
      if (row === undefined) return yield* new NotFound({ message: `no quarantined ref ${id} (see sync quarantine list)`, details: { id } })
      return row
    })

  const onlyRefs = (id: string, verb: string) =>
    Effect.gen(function*() {
      const p = yield* parse(id)
      if (p.kind === "event") {
        return yield* new InvalidInput({
          message: `${verb} applies to refs: event ${id} stays in the append-only log and is skipped by every replay and pull`,
          details: { id }
        })
      }
      return yield* refById(p.n, id)
    })

  const show = (id: string) =>
    Effect.gen(function*() {
      const p = yield* parse(id)
      if (p.kind === "ref") return { kind: "ref" as const, ref: refView(yield* refById(p.n, id)) }
      const event = yield* trySqlite(() => eventRows("WHERE q.event_seq = ?", p.n)[0])
      if (event === undefined) return yield* new NotFound({ message: `no quarantined event ${id} (see sync quarantine list)`, details: { id } })
      return { kind: "event" as const, event }
    })

  /**
   * Forgets why the ref was held back, fetches its remote and checks it
   * again: a remote put right is imported; one still wrong is quarantined anew.
   */
  const retry = (id: string) =>
    Effect.gen(function*() {
      const row = yield* onlyRefs(id, "retry")
      yield* trySqlite(() => db.query("DELETE FROM remote_quarantine WHERE remote = ? AND ref = ?").run(row.remote, row.ref))
      const report = yield* remote.recheck(row.remote)
      const refusal = report.refused.find((r) => r.ref === row.ref)
      return {
        ref: refView(row),
        accepted: refusal === undefined,
        refusal: refusal === undefined ? null : { code: refusal.code, detail: refusal.detail },
        imported: report.imported
      } satisfies RetryReport
    })

  /** Ignores the ref at its quarantined tip: fetch and push skip it silently until it moves. */
  const drop = (id: string) =>
    Effect.gen(function*() {
      const row = yield* onlyRefs(id, "drop")
      const at = Date.now()
      yield* trySqlite(() => db.query("UPDATE remote_quarantine SET dropped_at = ? WHERE id = ?").run(at, row.id))
      return refView({ ...row, dropped_at: at })
    })

  return { list, show, retry, drop }
}
