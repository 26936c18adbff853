import { Database } from "bun:sqlite"
import { Effect } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { GitContext } from "../events/GitContext.ts"
import { isGroveFailure } from "../errors/index.ts"
import { checkpoint, type CheckpointResult, walBytes } from "../storage/Wal.ts"
import { type PullReport, Sync } from "../sync/Sync.ts"
import { acquireWatchLock, watchLockName } from "./WatchLock.ts"

export interface WatchSettings {
  /** Sources to pull from; empty: the repository's default branch. */
  readonly sources: ReadonlyArray<string>
  /** A tick at least this often even when nothing changed. */
  readonly intervalMs: number
  /** How often the database's data_version and HEAD are looked at. */
  readonly pollMs: number
  /** No new data for this long: a PASSIVE checkpoint. */
  readonly idleMs: number
  /** WAL larger than this: a TRUNCATE checkpoint when readers allow. */
  readonly walBoundBytes: number
  readonly once: boolean
  /**
   * `--remote-every`: exchange events with a git remote (fetch, then push) at
   * most this often, before the tick's pulls so what arrived is pulled at once.
   * Given by the caller (the command line), as it lives above sync.
   */
  readonly exchange?: { readonly everyMs: number; readonly run: Effect.Effect<ExchangeSummary, unknown> } | undefined
}

/** What a tick's fetch and push did. */
export interface ExchangeSummary {
  readonly remote: string
  readonly imported: number
  readonly pushed: number
}

/** Why a tick ran. */
export type TickReason = "start" | "data" | "head" | "interval" | "idle" | "wal" | "remote"

export interface TickLine {
  readonly tick: number
  readonly at: string
  readonly reason: TickReason
  readonly worktree: string
  readonly branch: string | null
  readonly pulls: ReadonlyArray<
    | { readonly from: string; readonly scanned: number; readonly conflictsCreated: number; readonly conflictsSettled: number; readonly quarantined: number }
    | { readonly from: string; readonly error: { readonly code: string; readonly message: string } }
  >
  readonly walBytes: number
  readonly checkpoint: CheckpointResult | null
  /** The tick's fetch and push (with --remote-every), or its error; absent when none was due. */
  readonly exchange?: ExchangeSummary | { readonly error: { readonly code: string; readonly message: string } }
}

/** Runs an effect with the sync services of this worktree, opened fresh (so HEAD and branch are read anew). */
export type InWorktree = <A, E>(effect: Effect.Effect<A, E, Sync | GitContext>) => Effect.Effect<A, unknown>

const errorOf = (e: unknown) =>
  isGroveFailure(e) ? { code: e.code, message: e.message } : { code: "internal", message: e instanceof Error ? e.message : String(e) }

/**
 * `grove sync watch`: keeps a worktree reconciled. It notices commits from any
 * process (PRAGMA data_version on a connection of its own) and HEAD changes,
 * pulls from each source in bounded batches (never holding the write lock
 * longer than one batch), prints one JSON line per tick, and keeps the WAL
 * small: PASSIVE checkpoints when idle, TRUNCATE past a size bound, reported as
 * busy rather than blocking writers. A tick's errors go in its line; only
 * setup errors stop it. SIGINT/SIGTERM interrupt it (the runtime's signal
 * handling): a batch in flight rolls back, the lock and connection are
 * released by their finalizers, and the process exits 0.
 */
export const watch = (
  settings: WatchSettings,
  paths: { readonly database: string; readonly gitDir: string },
  inWorktree: InWorktree,
  /** Writes a tick line; false when the output is gone (its reader closed the pipe). */
  print: (line: TickLine) => boolean
) =>
  Effect.gen(function*() {
    yield* acquireWatchLock(NodePath.join(paths.gitDir, watchLockName))
    // A connection of its own: data_version changes when another connection commits; busy timeout 0 so checkpoints never wait.
    const monitor = yield* Effect.acquireRelease(
      Effect.sync(() => new Database(paths.database)),
      (db) => Effect.sync(() => db.close())
    )
    const dataVersion = () => (monitor.query("PRAGMA data_version").get() as { data_version: number }).data_version
    const headFile = NodePath.join(paths.gitDir, "HEAD")
    const head = () => {
      try {
        return NodeFs.readFileSync(headFile, "utf8")
      } catch {
        return ""
      }
    }

    /**
     * Past the bound: TRUNCATE if nobody holds the lock this instant; if busy, a
     * PASSIVE checkpoint instead, which never waits and lets the next writer
     * restart the WAL from its start, so the file stops growing.
     */
    const shrink = () => {
      const truncated = checkpoint(monitor, paths.database, "TRUNCATE")
      return truncated.busy ? { ...checkpoint(monitor, paths.database, "PASSIVE"), truncateBusy: true } : truncated
    }

    let ticks = 0
    let lastExchange = 0
    const exchangeDue = () => settings.exchange !== undefined && Date.now() - lastExchange >= settings.exchange.everyMs
    const tick = (reason: TickReason, upkeep: "PASSIVE" | "TRUNCATE" | null) =>
      Effect.gen(function*() {
        // Upkeep first: a WAL past its bound should not wait for the pulls.
        const done = upkeep === null ? null : upkeep === "TRUNCATE" ? shrink() : checkpoint(monitor, paths.database, upkeep)
        let exchange: TickLine["exchange"]
        if (settings.exchange !== undefined && exchangeDue()) {
          lastExchange = Date.now()
          const r = yield* Effect.either(Effect.catchAllDefect(settings.exchange.run, (defect) => Effect.fail(defect)))
          exchange = r._tag === "Right" ? r.right : { error: errorOf(r.left) }
        }
        const result = yield* Effect.either(Effect.catchAllDefect(inWorktree(Effect.gen(function*() {
          const context = yield* (yield* GitContext).resolve
          const sync = yield* Sync
          const sources = settings.sources.length > 0 ? settings.sources : [(yield* sync.status(undefined)).sourceBranch]
          const pulls: Array<TickLine["pulls"][number]> = []
          for (const from of sources) {
            const pulled = yield* Effect.either(sync.pull(from))
            pulls.push(
              pulled._tag === "Right"
                ? summary(from, pulled.right)
                : { from, error: errorOf(pulled.left) }
            )
          }
          return { context, pulls }
        })), (defect) => Effect.fail(defect)))
        ticks++
        const printed = print({
          tick: ticks,
          at: new Date().toISOString(),
          reason,
          worktree: result._tag === "Right" ? result.right.context.worktree : "",
          branch: result._tag === "Right" ? result.right.context.stream : null,
          pulls: result._tag === "Right" ? result.right.pulls : [{ from: settings.sources.join(",") || "(default)", error: errorOf(result.left) }],
          walBytes: walBytes(paths.database),
          checkpoint: done,
          ...(exchange === undefined ? {} : { exchange })
        })
        // Nobody reads the ticks any more: stop, so the scope releases the lock and the connection.
        if (!printed) return yield* Effect.interrupt
      })

    yield* tick("start", walBytes(paths.database) > settings.walBoundBytes ? "TRUNCATE" : null)
    if (settings.once) return ticks
    let lastData = dataVersion()
    let lastHead = head()
    let lastTick = Date.now()
    let lastChange = Date.now()
    let idleCheckpointed = false
    for (;;) {
      yield* Effect.sleep(settings.pollMs)
      const now = Date.now()
      const data = dataVersion()
      const currentHead = head()
      const wal = walBytes(paths.database)
      let reason: TickReason | undefined
      if (data !== lastData) reason = "data"
      else if (currentHead !== lastHead) reason = "head"
      else if (wal > settings.walBoundBytes) reason = "wal"
      else if (!idleCheckpointed && now - lastChange >= settings.idleMs) reason = "idle"
      else if (now - lastTick >= settings.intervalMs) reason = "interval"
      else if (exchangeDue()) reason = "remote"
      if (data !== lastData) {
        lastChange = now
        idleCheckpointed = false
      }
      lastHead = currentHead
      if (reason === undefined) continue
      yield* tick(reason, reason === "wal" ? "TRUNCATE" : reason === "idle" ? "PASSIVE" : null)
      if (reason === "idle") idleCheckpointed = true
      // Our own tick's commits are not news.
      lastData = dataVersion()
      lastTick = Date.now()
    }
  })

const summary = (from: string, r: PullReport) => ({
  from,
  scanned: r.scanned,
  conflictsCreated: r.conflictsCreated,
  conflictsSettled: r.conflictsSettled,
  quarantined: r.quarantined
})
