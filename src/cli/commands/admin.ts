import { Effect } from "effect"
import { EventStore } from "../../events/EventStore.ts"
import { Layer } from "effect"
import { databaseLayer } from "../../app/AppLayer.ts"
import { Doctor, type Finding } from "../../app/Doctor.ts"
import { GroveError } from "../../errors/index.ts"
import { rebuildAll, verifyAll } from "../../app/Verify.ts"
import { InvariantViolated, LogTampered, tamperedText, VerifyMismatch } from "../../projections/Replay.ts"
import { respond } from "../respond.ts"
import type { Handler } from "../execute.ts"
import * as Flags from "../options.ts"
import { Output, progressLine } from "../Output.ts"
import { runTracker } from "../runTracker.ts"
import type { Input } from "../spec.ts"

/** The log and the projection as wholes: events list, rebuild, verify. */

const eventsList: Handler = (o: Input) =>
  runTracker(
    "events list",
    Effect.gen(function*() {
      const limit = yield* Flags.nonNegative("limit", o.integer("limit"))
      const events = yield* (yield* EventStore).list({ stream: o.text("stream"), entity: o.text("entity"), limit })
      return {
        data: events,
        text: events.length === 0
          ? "No events."
          : events.map((e) =>
            `${String(e.seq).padStart(6)}  ${e.time}  ${e.stream}  ${e.actor}  ${e.op} ${e.entityId}  ${JSON.stringify(e.payload)}`
          ).join("\n")
      }
    })
  )

const rebuild: Handler = () =>
  runTracker(
    "rebuild",
    Effect.gen(function*() {
      const progress = progressLine((yield* Output).json, "replayed events:")
      const result = yield* rebuildAll(progress.report)
      progress.end()
      return { data: result, text: `Rebuilt the projection and the sync state from ${result.events} events` }
    })
  )

const verify: Handler = () =>
  runTracker(
    "verify",
    Effect.gen(function*() {
      const report = yield* verifyAll
      const lines = [...report.tables, ...report.sync].map((t) =>
        `${t.identical ? "ok     " : "DIFFERS"} ${t.table}: live ${t.live.rows} rows ${t.live.checksum}, replay ${t.replayed.rows} rows ${t.replayed.checksum}`
      )
      if (!report.log.intact) {
        return yield* new LogTampered({
          message: ["the event log was changed behind grove's back:", tamperedText(report.log), ...lines].join("\n"),
          details: { ...report }
        })
      }
      if (!report.identical) {
        return yield* new VerifyMismatch({
          message: ["the live projection or sync state differs from a replay of the log:", ...lines].join("\n"),
          details: { ...report }
        })
      }
      if (report.findings.length > 0) {
        return yield* new InvariantViolated({
          message: [
            "the live state breaks the graph's rules (see grove sync conflicts list):",
            ...report.findings.map((f) => `${f.code}: ${f.message}`),
            ...lines
          ].join("\n"),
          details: { ...report }
        })
      }
      return {
        data: report,
        text: [`identical (${report.events} events replayed; ${report.log.chains.streams} hash chains intact, append-only triggers in place)`, ...lines].join("\n")
      }
    })
  )

export class DoctorFoundProblems extends GroveError("DoctorFoundProblems", "doctor_found_problems") {}

const findingLine = (f: Finding) =>
  `${f.fixed === true ? "fixed  " : f.severity === "error" ? "ERROR  " : "warning"} ${f.code}: ${f.message}${f.fix !== undefined && f.fixed !== true ? ` (--fix: ${f.fix})` : ""}`

const doctor: Handler = (o: Input) =>
  respond(
    "doctor",
    Effect.gen(function*() {
      const report = yield* (yield* Doctor).run({ fix: o.flag("fix") })
      if (!report.healthy) {
        return yield* new DoctorFoundProblems({ message: `doctor found problems:\n${report.findings.map(findingLine).join("\n")}`, details: { ...report } })
      }
      return {
        data: report,
        text: [
          report.findings.length === 0 ? `healthy: ${report.database}` : `${report.database}:`,
          ...report.findings.map(findingLine),
          ...(report.backup === null ? [] : [`Backup before repairs: ${report.backup}`])
        ].join("\n")
      }
    }).pipe(
      // The database as it is: doctor must see an old schema, so it does not migrate first.
      Effect.provide(Doctor.layer.pipe(Layer.provideMerge(databaseLayer(process.cwd()))))
    )
  )

export const handlers: Record<string, Handler> = { "events list": eventsList, rebuild, verify, doctor }
