import type { Database } from "bun:sqlite"
import { Context, Effect, Either, Layer } from "effect"
import { GroveError } from "../errors/index.ts"
import { Git, type GitFailed, type NotARepository } from "../git/Git.ts"
import { Repository } from "../git/Repository.ts"
import { type DatabaseBusy, type DatabaseError, trySqlite } from "../storage/errors.ts"
import { Sqlite } from "../storage/Sqlite.ts"
import { type Frontier, knowledgeOp } from "../causality/causality.ts"
import { missing, type Range } from "../causality/CatchUp.ts"
import { type ConflictStore, makeConflictStore } from "../causality/ConflictStore.ts"
import { type Knowledge, makeKnowledge } from "../causality/Knowledge.ts"
import { makeInvariantStore } from "../causality/InvariantStore.ts"
import { streamOf } from "../events/GitContext.ts"
import { type PayloadOf, readStoredPayload } from "../events/operations.ts"
import { countOpsIn, firstOfOp, newestSeq } from "../events/log.ts"
import { localStreamId, streamsOfBranch } from "../events/streams.ts"
import { branchExists, defaultBranch } from "./SourceBranch.ts"

export class UnknownSource extends GroveError("UnknownSource", "unknown_source") {}

export interface StatusReport {
  readonly sourceBranch: string
  readonly currentBranch: string
  readonly behind: number
  readonly ahead: number
  readonly pendingConflicts: number
  /**
   * The branch whose knowledge this one started with (docs/sync.md "New branches"), or null: it started
   * empty (no start point known, or it knew nothing then), and knows only what it wrote and pulled.
   */
  readonly inheritedFrom: string | null
}

/** What a source branch is made of and what streams know, read from the log: shared by `sync status` and `sync pull`. */
export const makeSources = (db: Database, knowledge: Knowledge, cwd: string, git: typeof Git.Service) => {
  /**
   * What `sources` know together, as the highest seq per stream (each source's own stream: its newest
   * event). The newest seq is read first: frontiers only grow, so an event a source writes between the
   * two reads is never taken without the knowledge it was written with.
   */
  const knowledgeOf = (sources: ReadonlyArray<number>): Frontier => {
    const union: Record<number, number> = {}
    for (const source of sources) {
      const newest = newestSeq(db, source)
      for (const [s, seq] of Object.entries({ ...knowledge.current(source), [source]: newest })) {
        union[Number(s)] = Math.max(union[Number(s)] ?? 0, seq)
      }
    }
    return union
  }

  /**
   * Resolves the source branch to its streams: this replica's and those imported from other clones
   * (`sync fetch`). An unknown branch is an error; a branch grove never wrote to knows nothing.
   */
  const source = (from: string | undefined, self: number | undefined) =>
    Effect.gen(function*() {
      const name = from ?? (yield* Effect.provideService(defaultBranch(cwd), Git, git))
      const all = yield* trySqlite(() => streamsOfBranch(db, name))
      if (all.length === 0 && !(yield* Effect.provideService(branchExists(cwd, name), Git, git))) {
        return yield* new UnknownSource({
          message: `unknown source ${name}: no such branch, and grove has no events from it`,
          details: { source: name }
        })
      }
      return { name, all, ids: all.filter((id) => id !== self) }
    })

  return { knowledgeOf, source }
}

/**
 * `sync status`: how the branch `current` names compares with a source branch. Only reads: the Sync
 * service answers it inside a server (its stream from the git context), and the `sync status` command
 * through SyncStatus, which builds none of the write path (docs/decisions.md, "Start-up").
 */
export const makeStatus = <E>(
  db: Database,
  knowledge: Knowledge,
  conflicts: ConflictStore,
  sources: ReturnType<typeof makeSources>,
  current: Effect.Effect<string, E>
) => {
  const invariants = makeInvariantStore(db)
  /** The changes in a range: knowledge events are bookkeeping, not something to be behind on. */
  const countIn = (r: Range) => (r.hi <= r.lo ? 0 : countOpsIn(db, r, knowledgeOp))
  return (from: string | undefined) =>
    Effect.gen(function*() {
      const stream = yield* current
      const self = yield* trySqlite(() => localStreamId(db, stream))
      const src = yield* sources.source(from, self)
      return yield* trySqlite(() => {
        const selfKnows: Frontier = self === undefined ? {} : sources.knowledgeOf([self])
        const sourceKnows: Frontier = sources.knowledgeOf(src.all)
        // A branch that never wrote has no stream yet: it knows nothing, so it lacks all the source knows.
        const behind = missing(self === undefined ? [] : [self], selfKnows, sourceKnows).reduce((n, r) => n + countIn(r), 0)
        const ahead = missing(src.all, sourceKnows, selfKnows).reduce((n, r) => n + countIn(r), 0)
        const pendingConflicts = self === undefined ? 0 : conflicts.countPending(self) + invariants.countPending(self)
        const first = self === undefined ? undefined : firstOfOp(db, self, knowledgeOp)
        const fork = first === undefined ? undefined : Either.getOrUndefined(readStoredPayload(knowledgeOp, first.payload)) as PayloadOf<typeof knowledgeOp> | undefined
        const inheritedFrom = fork?.via === "fork" ? fork.source : null
        return { sourceBranch: src.name, currentBranch: stream, behind, ahead, pendingConflicts, inheritedFrom } satisfies StatusReport
      })
    })
}

/**
 * The `sync status` command's service: the status over the open database and the repository of the
 * working directory (its branch read from HEAD once), without the write path, causality or Sync.
 */
export class SyncStatus extends Context.Tag("grove/SyncStatus")<SyncStatus, {
  readonly status: (from: string | undefined) => Effect.Effect<StatusReport, UnknownSource | NotARepository | GitFailed | DatabaseBusy | DatabaseError>
}>() {
  static readonly layer = Layer.effect(
    SyncStatus,
    Effect.gen(function*() {
      const { db } = yield* Sqlite
      const repository = yield* Repository
      const knowledge = makeKnowledge(db)
      const sources = makeSources(db, knowledge, repository.cwd, yield* Git)
      const current = Effect.map(repository.paths, (paths) => streamOf(paths.gitDir, paths.head))
      return { status: makeStatus(db, knowledge, makeConflictStore(db), sources, current) }
    })
  )
}
