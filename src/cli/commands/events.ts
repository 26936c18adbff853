import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { EventStore } from "../../events/EventStore.ts"
import * as Flags from "../options.ts"
import { runTracker } from "../run.ts"

const list = Command.make(
  "list",
  {
    stream: Options.text("stream").pipe(Options.withDescription("only events written on this branch"), Options.optional),
    entity: Options.text("entity").pipe(Options.withDescription("only events of this entity"), Options.optional),
    limit: Flags.limit
  },
  (o) =>
    runTracker(
      "events list",
      Effect.gen(function*() {
        const limit = yield* Flags.nonNegative("limit", o.limit)
        const events = yield* (yield* EventStore).list({ stream: Flags.optional(o.stream), entity: Flags.optional(o.entity), limit })
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
).pipe(Command.withDescription("Show the event log (newest N, default 50, in log order)."))

export const events = Command.make("events").pipe(
  Command.withDescription("The immutable event log."),
  Command.withSubcommands([list])
)
