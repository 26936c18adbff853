import { Command } from "@effect/cli"
import { Effect } from "effect"
import { LogTampered, Replay, tamperedText, VerifyMismatch } from "../../projections/Replay.ts"
import { Output, progressLine } from "../Output.ts"
import { runTracker } from "../run.ts"

export const rebuild = Command.make("rebuild", {}, () =>
  runTracker(
    "rebuild",
    Effect.gen(function*() {
      const progress = progressLine((yield* Output).json, "replayed events:")
      const result = yield* (yield* Replay).rebuild(progress.report)
      progress.end()
      return { data: result, text: `Rebuilt the projection from ${result.events} events` }
    })
  )).pipe(Command.withDescription("Replay the whole event log into fresh projection tables."))

export const verify = Command.make("verify", {}, () =>
  runTracker(
    "verify",
    Effect.gen(function*() {
      const report = yield* (yield* Replay).verify
      const lines = report.tables.map((t) =>
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
          message: ["the live projection differs from a replay of the log:", ...lines].join("\n"),
          details: { ...report }
        })
      }
      return {
        data: report,
        text: [`identical (${report.events} events replayed; ${report.log.chains.streams} hash chains intact, append-only triggers in place)`, ...lines].join("\n")
      }
    })
  )).pipe(Command.withDescription("Replay the log into a scratch database and compare per-table checksums with the live tables."))
