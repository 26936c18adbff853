import { Context, Effect, Layer } from "effect"
import { GitContext } from "../events/GitContext.ts"
import { Git } from "../git/Git.ts"
import { Repository } from "../git/Repository.ts"
import { trySqlite } from "../storage/errors.ts"
import { Sqlite } from "../storage/Sqlite.ts"
import { withBatchRunCheckpoints } from "../storage/Wal.ts"
import { CausalState } from "../causality/CausalState.ts"
import { knowledgeOp } from "../causality/causality.ts"
import { draft } from "../events/Event.ts"
import { Writer } from "../write/Writer.ts"
import { isLocalStream, localStreamId, streamName } from "../events/streams.ts"
import { makeSources, makeStatus } from "./Status.ts"
import { makeInvariantStore } from "../causality/InvariantStore.ts"
import { Touched } from "../projections/Invariants.ts"
import { checkInvariants } from "./InvariantCheck.ts"
import { SyncConfig } from "./SyncConfig.ts"

export interface PullReport {
  readonly sourceBranch: string
  readonly currentBranch: string
  /** Events learnt by this pull (quarantined ones included). */
  readonly scanned: number
  readonly conflictsCreated: number
  readonly conflictsSettled: number
  readonly quarantined: number
  readonly quarantinedByReason: Readonly<Record<string, number>>
  /** This branch's knowledge after the pull: per source stream, the highest seq known. */
  readonly cursor: Readonly<Record<string, number>>
  readonly batches: number
}

export interface PullOptions {
  /** Events per transaction (default: GROVE_PULL_BATCH, else 10,000). */
  readonly batchSize?: number
  readonly onProgress?: (scanned: number) => void
}

/**
 * `sync pull` and `sync status`: what B knows that A does not, learnt in seq
 * order in bounded batches, each one transaction that saves A's advanced
 * frontier and the conflicts it produced, and appends a knowledge event that
 * records it. Knowledge events write no field, so the live state never changes.
 */
export class Sync extends Context.Tag("grove/Sync")<Sync, ReturnType<typeof makeSync>>() {
  static readonly layer = Layer.effect(
    Sync,
    Effect.gen(function*() {
      const gitCommands = yield* Git
      return makeSync(yield* Sqlite, yield* Writer, yield* CausalState, yield* GitContext, yield* Repository, gitCommands, yield* SyncConfig)
    })
  )
}

const makeSync = (
  { db }: typeof Sqlite.Service,
  writer: typeof Writer.Service,
  { knowledge, conflicts }: typeof CausalState.Service,
  git: typeof GitContext.Service,
  repository: typeof Repository.Service,
  gitCommands: typeof Git.Service,
  config: typeof SyncConfig.Service
) => {
  const invariants = makeInvariantStore(db)
  const { knowledgeOf, source } = makeSources(db, knowledge, repository.cwd, gitCommands)

  const cursorOf = (self: number) => {
    const known = knowledge.current(self)
    return Object.fromEntries(Object.entries(known).map(([s, seq]) => [streamName(db, Number(s)), seq]))
  }

  const pull = (from: string | undefined, options: PullOptions = {}) =>
    Effect.gen(function*() {
      const context = yield* git.resolve
      const src = yield* source(from, yield* trySqlite(() => localStreamId(db, context.stream)))
      const batchSize = options.batchSize ?? config.pullBatchSize
      const report = { scanned: 0, conflictsCreated: 0, conflictsSettled: 0, quarantined: 0, batches: 0 }
      const byReason: Record<string, number> = {}
      // The entities made to exist or not by what this pull learns, where an invariant can break.
      const touched = new Touched()
      const isLocal = isLocalStream(db)
      // What B knows when the pull starts: later writes to B wait for the next pull.
      const target = yield* trySqlite(() => knowledgeOf(src.ids))
      // Each batch is one transaction: what it learnt and the knowledge event that records it in the log.
      const batch = writer.write((emit, learn, stream) =>
        Effect.gen(function*() {
          const self = yield* stream
          if (report.batches === 0) yield* trySqlite(() => (conflicts.adoptPending(context.worktree, self), invariants.adoptPending(context.worktree, self)))
          const step = yield* learn(target, batchSize)
          // Every write made here was checked against the shared live state, so a broken invariant always involves
          // an event imported from another clone: only those are looked around (a pull of local branches checks nothing).
          for (const e of step.learnt) if (!isLocal(e.stream_id)) touched.add(e.op, e.entity_id)
          if (step.read > 0) yield* emit([draft(knowledgeOp, { kind: "stream", id: context.stream }, { via: "pull", source: src.name })])
          report.scanned += step.scanned
          report.conflictsCreated += step.created.length
          report.conflictsSettled += step.settled.length
          for (const [reason, n] of Object.entries(step.quarantinedByReason)) {
            byReason[reason] = (byReason[reason] ?? 0) + n
            report.quarantined += n
          }
          // The last batch records the cycles and orphans among what the whole pull learnt (docs/sync.md, Invariant conflicts).
          if (step.done && touched.size > 0) {
            const found = yield* checkInvariants(db, emit, { branch: context.stream, via: "pull", source: src.name }, touched)
            report.conflictsCreated += found.created.length
            report.conflictsSettled += found.settled.length
          }
          if (step.read > 0) report.batches++
          return { done: step.done, self }
        }), context)
      const self = yield* withBatchRunCheckpoints(db, Effect.gen(function*() {
        for (;;) {
          const step = yield* batch
          options.onProgress?.(report.scanned)
          if (step.done) return step.self
          // A macrotask turn between batches, so a signal (interrupting the fiber) lands between transactions.
          yield* Effect.sleep(0)
        }
      }))
      return {
        sourceBranch: src.name,
        currentBranch: context.stream,
        ...report,
        quarantinedByReason: byReason,
        cursor: yield* trySqlite(() => cursorOf(self))
      } satisfies PullReport
    })

  /** Answered in a long-lived server too: the branch is read from the git context at each call. */
  const status = makeStatus(db, knowledge, conflicts, { knowledgeOf, source }, Effect.map(git.resolve, (c) => c.stream))

  return { pull, status }
}
