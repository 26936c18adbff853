import { Command, Options } from "@effect/cli"
import { Effect, Layer } from "effect"
import { Doctor, type Finding } from "../../app/Doctor.ts"
import { databaseLayer } from "../../app/AppLayer.ts"
import { GroveError } from "../../errors/index.ts"
import { respond } from "../respond.ts"

export class DoctorFoundProblems extends GroveError("DoctorFoundProblems", "doctor_found_problems") {}

const line = (f: Finding) =>
  `${f.fixed === true ? "fixed  " : f.severity === "error" ? "ERROR  " : "warning"} ${f.code}: ${f.message}${f.fix !== undefined && f.fixed !== true ? ` (--fix: ${f.fix})` : ""}`

// The database as it is: doctor must see an old schema, so it does not migrate first.
const doctorLayer = Doctor.layer.pipe(Layer.provideMerge(databaseLayer(process.cwd())))

export const doctor = Command.make(
  "doctor",
  { fix: Options.boolean("fix").pipe(Options.withDescription("make the repairs a backup can undo (taking that backup first) and say what was done")) },
  ({ fix }) =>
    respond(
      "doctor",
      Effect.gen(function*() {
        const report = yield* (yield* Doctor).run({ fix })
        const text = [
          report.findings.length === 0 ? `healthy: ${report.database}` : `${report.database}:`,
          ...report.findings.map(line),
          ...(report.backup === null ? [] : [`Backup before repairs: ${report.backup}`])
        ].join("\n")
        if (!report.healthy) {
          return yield* new DoctorFoundProblems({ message: `doctor found problems:\n${report.findings.map(line).join("\n")}`, details: { ...report } })
        }
        return { data: report, text }
      }).pipe(Effect.provide(doctorLayer))
    )
).pipe(Command.withDescription("Check the database, the log's integrity, replicas, locks and configuration; --fix repairs what a backup undoes."))
