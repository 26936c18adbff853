import { Context, Effect, Layer } from "effect"
import { Sqlite } from "../storage/Sqlite.ts"
import { type Agreement, makeAgreement } from "./Agreement.ts"
import { type CatchUp, makeCatchUp } from "./CatchUp.ts"
import { type Closure, makeClosure } from "./Closure.ts"
import { type ConflictStore, makeConflictStore } from "./ConflictStore.ts"
import { makeHeadsStore } from "./HeadsStore.ts"
import { type Knowledge, makeKnowledge } from "./Knowledge.ts"
import { type Fork, makeFork } from "./Fork.ts"
import { type Learner, makeLearner } from "./Learner.ts"
import { makeRelearn, type Relearn } from "./Relearn.ts"
import { type LearntEvents, makeLearntEvents } from "./LearntEvents.ts"

/**
 * Each stream's causal state over the open database: its knowledge (the
 * frontier of what it has pulled), its heads (the maximal writes it knows of
 * each field, learnt from every event it writes or pulls) and its conflict
 * records. The write path learns a stream's own writes and the past they
 * bring in (Closure.ts); sync learns pulls; both catch up the same way (CatchUp.ts).
 */
export class CausalState extends Context.Tag("grove/CausalState")<CausalState, {
  readonly knowledge: Knowledge
  readonly events: LearntEvents
  readonly learner: Learner
  readonly conflicts: ConflictStore
  readonly closure: Closure
  readonly catchUp: CatchUp
  readonly agreement: Agreement
  readonly relearn: Relearn
  readonly fork: Fork
}>() {
  static readonly layer = Layer.effect(
    CausalState,
    Effect.map(Sqlite, ({ db }) => {
      const knowledge = makeKnowledge(db)
      const events = makeLearntEvents(db, knowledge)
      const conflicts = makeConflictStore(db)
      const heads = makeHeadsStore(db, knowledge)
      const learner = makeLearner(knowledge, events, heads, conflicts)
      const catchUp = makeCatchUp(db, knowledge, events, learner)
      return {
        knowledge,
        events,
        conflicts,
        learner,
        closure: makeClosure(db, knowledge),
        catchUp,
        agreement: makeAgreement(knowledge, events, heads),
        relearn: makeRelearn(db, knowledge, events, learner, catchUp, conflicts),
        fork: makeFork(db, knowledge)
      }
    })
  )
}
