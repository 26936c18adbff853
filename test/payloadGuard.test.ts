import { describe, expect, it } from "bun:test"
import { Arbitrary, FastCheck as fc, Schema } from "effect"
import { isOperation, operationNames, operations, readStoredPayload } from "../src/events/operations.ts"
import { compileGuard } from "../src/events/payloadGuard.ts"
import { replayableSeed } from "./support/index.ts"

const seed = replayableSeed("payload guard", "GROVE_TEST_GUARD_SEED")

/** Values near a valid payload: a key dropped, a key's value replaced by anything, a key added. */
const nearby = (valid: fc.Arbitrary<unknown>) =>
  fc.tuple(valid, fc.nat(), fc.anything(), fc.string()).map(([v, n, other, extra]) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return v
    const copy: Record<string, unknown> = { ...(v as Record<string, unknown>) }
    const keys = Object.keys(copy)
    const key = keys.length === 0 ? extra : keys[n % keys.length]!
    switch (n % 3) {
      case 0:
        delete copy[key]
        break
      case 1:
        copy[key] = other
        break
      default:
        copy[extra] = other
    }
    return copy
  })

/** Valid payloads of `schema`; a deletion's (an empty record of never) has no Arbitrary: its one valid value is {}. */
const validPayloads = (schema: Schema.Schema<unknown, unknown>): fc.Arbitrary<unknown> => {
  try {
    return Arbitrary.make(schema) as fc.Arbitrary<unknown>
  } catch {
    return fc.constant({})
  }
}

describe("compiled payload guards", () => {
  it("answer as Schema.is does for every operation, on valid payloads, payloads one change away from valid and arbitrary values", () => {
    for (const op of operationNames) {
      const schema = operations[op].payload as Schema.Schema<unknown, unknown>
      const reference = Schema.is(schema)
      const compiled = compileGuard(schema)
      const valid = validPayloads(schema)
      const values = fc.oneof(valid, nearby(valid), fc.anything(), fc.jsonValue())
      fc.assert(
        fc.property(values, (u) => {
          const json = JSON.stringify(u)
          const parsed: unknown = json === undefined ? u : JSON.parse(json)
          for (const value of [u, parsed]) {
            if (compiled(value) !== reference(value)) {
              throw new Error(`${op}: ${JSON.stringify(value)}: Schema.is says ${reference(value)}, the compiled guard ${compiled(value)}`)
            }
          }
        }),
        { seed, numRuns: 400 }
      )
    }
  })

  it("still refuses stored payloads that break their Schema: a blank title, an unknown status, a missing key, extra keys on a deletion", () => {
    const refused = [
      ["task.created", { epic: "E", title: "   ", description: "", status: "todo", owner: null }],
      ["task.updated", { status: "finished" }],
      ["dependency.added", { source: { kind: "task", id: "a" } }],
      ["task.deleted", { why: "x" }],
      ["task.leased", { owner: "a", lease: 1.5 }]
    ] as const
    for (const [op, payload] of refused) {
      expect({ op, read: readStoredPayload(op, JSON.stringify(payload))._tag }).toEqual({ op, read: "Left" })
    }
    expect(isOperation("task.updated")).toBe(true)
    expect(readStoredPayload("task.updated", JSON.stringify({ title: "ok", owner: null }))._tag).toBe("Right")
  })
})
