/**
 * In-process helpers for the tracker suites (events, tracker, bulk, replay):
 * run an effect in a worktree exactly as a CLI command does (withTracker), and
 * read the database file directly with bun:sqlite to check what was written.
 */
import { Database } from "bun:sqlite"
import { Effect, type Layer } from "effect"
import * as NodePath from "node:path"
import { trackerLayer, withTracker } from "../../src/app/AppLayer.ts"
import { isGroveFailure } from "../../src/errors/index.ts"
import { Claims } from "../../src/tracker/Claims.ts"
import { flipRun, run } from "./effect.ts"

/** Every service a tracker command can use. */
export type TrackerServices = Layer.Layer.Success<ReturnType<typeof trackerLayer>>

/** A task claim as `grove task claim` makes it. */
export const claimTask = (id: string, owner: string, ifVersion?: number) =>
  Effect.flatMap(Claims, (c) => c.claim("task", id, { owner, ifVersion }))

/** Runs `effect` as one grove command in the worktree at `cwd` and returns its value. */
export const inWorktree = <A, E>(cwd: string, effect: Effect.Effect<A, E, TrackerServices>): Promise<A> =>
  run(withTracker(cwd)(effect))

/** Runs `effect` as one grove command in `cwd`, expecting a coded failure; returns it. */
export const failureIn = async <A, E>(
  cwd: string,
  effect: Effect.Effect<A, E, TrackerServices>
): Promise<{ readonly code: string; readonly message: string; readonly details: Record<string, any> }> => {
  const error: unknown = await flipRun(withTracker(cwd)(effect))
  if (!isGroveFailure(error)) throw new Error(`expected a coded grove failure, got ${String(error)}`)
  return { code: error.code, message: error.message, details: (error.details ?? {}) as Record<string, any> }
}

/** The shared database of a repository (DESIGN.md section 3). */
export const dbPathOf = (root: string) => NodePath.join(root, ".git", "grove", "grove.db")

/** Opens the database file with raw bun:sqlite, runs `f`, closes it. */
export const withDb = <A>(root: string, f: (db: Database) => A): A => {
  const db = new Database(dbPathOf(root), { readwrite: true, create: false })
  try {
    db.run("PRAGMA busy_timeout = 10000")
    return f(db)
  } finally {
    db.close()
  }
}

export const countRows = (root: string, table: string, where = ""): number =>
  withDb(root, (db) => (db.query(`SELECT count(*) AS n FROM ${table} ${where}`).get() as { n: number }).n)

export type EventRow = {
  readonly seq: number
  readonly id: string
  readonly tx_id: number
  readonly clock: number
  readonly entity_kind: string
  readonly entity_id: string
  readonly op: string
  readonly payload: string
  readonly cause_id: string | null
  readonly stream: string
  readonly worktree: string
  readonly head: string | null
  readonly actor: string
}

/** Events in log order with their transaction's git context, optionally only those after `afterSeq`. */
export const eventsAfter = (root: string, afterSeq = 0): Array<EventRow> =>
  withDb(root, (db) =>
    db.query(
      `SELECT e.seq, e.id, e.tx_id, e.clock, e.entity_kind, e.entity_id, e.op, e.payload, e.cause_id,
              s.name AS stream, t.worktree, t.head, t.actor
       FROM events e JOIN transactions t ON t.id = e.tx_id JOIN streams s ON s.id = e.stream_id
       WHERE e.seq > ? ORDER BY e.seq`
    ).all(afterSeq) as Array<EventRow>)

export const lastSeq = (root: string): number =>
  withDb(root, (db) => (db.query("SELECT coalesce(max(seq), 0) AS n FROM events").get() as { n: number }).n)

/** Sets (or with undefined, unsets) environment variables for the duration of `f`, then restores them. */
export const withEnv = async <A>(vars: Record<string, string | undefined>, f: () => Promise<A>): Promise<A> => {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]))
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
  apply(vars)
  try {
    return await f()
  } finally {
    apply(saved)
  }
}

/** The environment grove reads, minus anything the developer running the tests may have set. */
export const neutralEnv = {
  GROVE_DB: undefined,
  GROVE_ACTOR: undefined,
  GROVE_SQLITE_DURABILITY: undefined,
  GROVE_SQLITE_CACHE_MIB: undefined,
  GROVE_BUSY_TIMEOUT_MS: undefined
} as const

/** A deterministic PRNG (mulberry32) for reproducible random command sequences. */
export const seededRandom = (seed: number) => {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <A>(xs: ReadonlyArray<A>): A | undefined => (xs.length === 0 ? undefined : xs[Math.floor(next() * xs.length)])
  }
}

/** Clears grove's environment variables for a test file (beforeAll) and returns a restore function (afterAll). */
export const isolateEnv = (): (() => void) => {
  const saved = Object.fromEntries(Object.keys(neutralEnv).map((k) => [k, process.env[k]]))
  for (const k of Object.keys(neutralEnv)) delete process.env[k]
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}
