import { Context, Effect, Layer } from "effect"
import { Sqlite } from "../storage/Sqlite.ts"
import { makeHeads } from "./Heads.ts"
import { makeKnowledge } from "./Knowledge.ts"

/** Knowledge (frontiers) and conflict detection (heads) over the open database. */
export class Detector extends Context.Tag("grove/Detector")<Detector, {
  readonly knowledge: ReturnType<typeof makeKnowledge>
  readonly heads: ReturnType<typeof makeHeads>
}>() {
  static readonly layer = Layer.effect(
    Detector,
    Effect.map(Sqlite, ({ db }) => {
      const knowledge = makeKnowledge(db)
      return { knowledge, heads: makeHeads(db, knowledge) }
    })
  )
}
