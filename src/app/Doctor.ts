import { Database } from "bun:sqlite"
import { Context, Effect, Layer } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { restoreTriggers } from "../events/chain.ts"
import { localReplicaName } from "../events/streams.ts"
import { Git } from "../git/Git.ts"
import { Repository } from "../git/Repository.ts"
import { Backup } from "../migrations/Backup.ts"
import { migrations } from "../migrations/list.ts"
import { logIntegrity, tamperedText } from "../projections/Replay.ts"
import { renewReplicaId } from "../remote/Replica.ts"
import { streamOfRef } from "../remote/Transport.ts"
import { canonicalPath } from "../storage/DatabaseLocation.ts"
import { trySqlite } from "../storage/errors.ts"
import { Sqlite } from "../storage/Sqlite.ts"
import { walBytes } from "../storage/Wal.ts"
import { isStaleLock, watchLockName } from "./WatchLock.ts"

/**
 * `grove doctor`: everything a user would otherwise check by hand, one finding
 * per problem, each with a code (docs/doctor.md lists them). `--fix` makes
 * only repairs a backup undoes, takes that backup first, and says what it did.
 */
export type Severity = "error" | "warning"

export interface Finding {
  readonly code: FindingCode
  readonly severity: Severity
  readonly message: string
  readonly details?: Readonly<Record<string, unknown>>
  /** What --fix does about it; absent when it needs a person. */
  readonly fix?: string
  /** Set when --fix did it. */
  readonly fixed?: boolean
}

export interface DoctorReport {
  readonly database: string
  readonly healthy: boolean
  readonly findings: ReadonlyArray<Finding>
  /** The backup taken before repairs (--fix with something to fix). */
  readonly backup: string | null
}

/** The WAL size past which doctor warns: `sync watch` truncates at this bound by default. */
export const walWarnBytes = 64 * 1024 * 1024

/** Every finding doctor can report, with its severity (docs/doctor.md documents each). */
export const findingSeverity = {
  database_corrupt: "error",
  schema_too_new: "error",
  schema_behind: "warning",
  trigger_missing: "error",
  chain_broken: "error",
  wal_large: "warning",
  replica_duplicated: "error",
  database_moved: "warning",
  refs_quarantined: "warning",
  events_quarantined: "warning",
  watch_lock_stale: "warning",
  claims_expired: "warning",
  actor_missing: "warning",
  actor_shared: "warning"
} as const satisfies Record<string, Severity>

export type FindingCode = keyof typeof findingSeverity

const finding = (code: FindingCode) => ({ code, severity: findingSeverity[code] })

interface Check {
  readonly finding: Finding
  readonly repair?: () => void
}

export class Doctor extends Context.Tag("grove/Doctor")<Doctor, ReturnType<typeof makeDoctor>>() {
  static readonly layer = Layer.effect(
    Doctor,
    Effect.gen(function*() {
      return makeDoctor(yield* Sqlite, yield* Backup, yield* Repository, yield* Git)
    })
  )
}

const makeDoctor = (
  { db, path }: typeof Sqlite.Service,
  backup: typeof Backup.Service,
  repository: typeof Repository.Service,
  git: typeof Git.Service
) => {
  /** The worktrees of this repository: path and git dir (where each one's watch lock lives). */
  const worktrees = Effect.gen(function*() {
    const r = yield* git.run(repository.cwd, ["worktree", "list", "--porcelain"])
    const paths = r.stdout.split("\n").filter((l) => l.startsWith("worktree ")).map((l) => l.slice("worktree ".length))
    const out: Array<{ path: string; gitDir: string }> = []
    for (const p of paths) {
      const g = yield* git.run(p, ["rev-parse", "--absolute-git-dir"])
      if (g.exitCode === 0) out.push({ path: p, gitDir: g.stdout.trim() })
    }
    return out
  }).pipe(Effect.orElseSucceed(() => [] as Array<{ path: string; gitDir: string }>))

  const actorConfigured = Effect.gen(function*() {
    if ((process.env["GROVE_ACTOR"] ?? "") !== "") return true
    const r = yield* git.run(repository.cwd, ["config", "--get", "user.email"])
    return r.exitCode === 0 && r.stdout.trim() !== ""
  }).pipe(Effect.orElseSucceed(() => false))

  const examine = Effect.gen(function*() {
    const checks: Array<Check> = []
    const add = (finding: Finding, repair?: () => void) => checks.push(repair === undefined ? { finding } : { finding, repair })

    const quick = yield* trySqlite(() => (db.query("PRAGMA quick_check").all() as Array<{ quick_check: string }>).map((r) => r.quick_check))
    if (quick.length !== 1 || quick[0] !== "ok") {
      add({ ...finding("database_corrupt"), message: `SQLite quick_check failed: ${quick.slice(0, 5).join("; ")}`, details: { quickCheck: quick } })
    }

    const version = yield* trySqlite(() => (db.query("PRAGMA user_version").get() as { user_version: number }).user_version)
    if (version > migrations.length) {
      add({
        ...finding("schema_too_new"),
        message: `the database is at schema ${version}, newer than this grove (${migrations.length}); upgrade grove before anything else`,
        details: { current: version, latest: migrations.length }
      })
      return checks
    }
    if (version < migrations.length) {
      add({
        ...finding("schema_behind"),
        message: `the database is at schema ${version}, this grove's is ${migrations.length}: the next grove command migrates it (grove migrate up does it now)`,
        details: { current: version, latest: migrations.length }
      })
      return checks // the checks below read the current schema
    }

    const log = yield* trySqlite(() => logIntegrity(db))
    if (log.damagedTriggers.length > 0) {
      add(
        {
          ...finding("trigger_missing"),
          message: `append-only trigger${log.damagedTriggers.length === 1 ? "" : "s"} missing or altered: ${log.damagedTriggers.join(", ")}`,
          details: { triggers: log.damagedTriggers },
          fix: "re-create the append-only triggers"
        },
        () => void restoreTriggers(db)
      )
    }
    if (log.chains.broken.length > 0) {
      add({
        ...finding("chain_broken"),
        message: `the event log was changed behind grove's back:\n${tamperedText({ ...log, damagedTriggers: [] })}`,
        details: { broken: log.chains.broken }
      })
    }

    const wal = walBytes(path)
    if (wal > walWarnBytes) {
      add({
        ...finding("wal_large"),
        message: `the WAL is ${Math.round(wal / 1024 / 1024)} MiB: a long-lived reader keeps checkpoints from finishing (sync watch truncates it when idle)`,
        details: { walBytes: wal }
      })
    }

    const home = yield* trySqlite(() => (db.query("SELECT path FROM database_home WHERE id = 1").get() as { path: string } | null)?.path)
    const here = canonicalPath(path)
    const replica = yield* trySqlite(() => localReplicaName(db))
    if (home !== undefined && home !== here) {
      const original = NodeFs.existsSync(home) ? yield* trySqlite(() => replicaOf(home)) : undefined
      if (original === replica) {
        add(
          {
            ...finding("replica_duplicated"),
            message: `this database is a copy of ${home}, which still uses replica id ${replica}: both would publish different events under one name`,
            details: { original: home, replica },
            fix: "give this database a new replica id (its events so far stay the original's)"
          },
          () => {
            renewReplicaId(db)
            db.query("UPDATE database_home SET path = ? WHERE id = 1").run(here)
          }
        )
      } else {
        add(
          {
            ...finding("database_moved"),
            message: `this database was created at ${home}; no database with its replica id is there now, so it was moved`,
            details: { original: home },
            fix: "record its new place"
          },
          () => void db.query("UPDATE database_home SET path = ? WHERE id = 1").run(here)
        )
      }
    }
    const quarantinedRefs = yield* trySqlite(() =>
      db.query("SELECT id, remote, ref, code FROM remote_quarantine WHERE dropped_at IS NULL ORDER BY id").all() as Array<
        { id: number; remote: string; ref: string; code: string }
      >
    )
    // Another database publishing under this id shows as a rewritten history, or as bundles signed by another key.
    const own = quarantinedRefs.filter((q) => (q.code === "history_rewritten" || q.code === "bundle_unauthenticated") && streamOfRef(q.ref)?.replica === replica)
    if (own.length > 0) {
      add({
        ...finding("replica_duplicated"),
        message: `a remote holds other events under this database's own replica id (${own.map((q) => `${q.remote} refs/grove/${q.ref}`).join(", ")}): another database uses it, or the ref was rewritten`,
        details: { refs: own.map((q) => `r${q.id}`) }
      })
    }
    const foreign = quarantinedRefs.filter((q) => !own.includes(q))
    if (foreign.length > 0) {
      add({
        ...finding("refs_quarantined"),
        message: `${foreign.length} grove ref${foreign.length === 1 ? " is" : "s are"} held back: grove sync quarantine list`,
        details: { refs: foreign.map((q) => `r${q.id}`) }
      })
    }
    const events = yield* trySqlite(() => (db.query("SELECT count(*) AS n FROM quarantine").get() as { n: number }).n)
    if (events > 0) {
      add({
        ...finding("events_quarantined"),
        message: `${events} stored event${events === 1 ? " fails" : "s fail"} their Schema and are skipped: grove sync quarantine list`,
        details: { events }
      })
    }

    for (const w of yield* worktrees) {
      const lock = NodePath.join(w.gitDir, watchLockName)
      if (isStaleLock(lock)) {
        add(
          {
            ...finding("watch_lock_stale"),
            message: `${w.path} has a sync watch lock whose watcher is gone`,
            details: { worktree: w.path, lock },
            fix: "remove the stale lock"
          },
          () => NodeFs.rmSync(lock, { force: true })
        )
      }
    }

    const expired = yield* trySqlite(() =>
      db.query("SELECT entity_id AS id, owner FROM leases WHERE expires_at < ? ORDER BY entity_id").all(Date.now()) as Array<{ id: string; owner: string }>
    )
    if (expired.length > 0) {
      add({
        ...finding("claims_expired"),
        message: `${expired.length} claim${expired.length === 1 ? "'s lease has" : "s' leases have"} expired: anyone may take ${expired.length === 1 ? "it" : "them"} over (${expired.map((c) => `${c.id} by ${c.owner}`).join(", ")})`,
        details: { claims: expired }
      })
    }

    if (!(yield* actorConfigured)) {
      add({
        ...finding("actor_missing"),
        message: "no actor is configured: set GROVE_ACTOR, or git config user.email, so events say who wrote them"
      })
    }
    const shared = yield* trySqlite(() =>
      db.query(
        `SELECT t.actor, count(DISTINCT t.worktree) AS worktrees FROM transactions t JOIN streams s ON s.id = t.stream_id
         WHERE s.replica_id = 1 GROUP BY t.actor HAVING count(DISTINCT t.worktree) > 1 ORDER BY t.actor`
      ).all() as Array<{ actor: string; worktrees: number }>
    )
    if (shared.length > 0) {
      add({
        ...finding("actor_shared"),
        message: `one actor writes from several worktrees (${shared.map((s) => `${s.actor}: ${s.worktrees}`).join(", ")}): set GROVE_ACTOR per agent so claims and conflicts say who`,
        details: { actors: shared }
      })
    }
    return checks
  })

  /** Examines the database and repository; with `fix`, backs up and repairs what it can undo. */
  const run = (options: { readonly fix: boolean }) =>
    Effect.gen(function*() {
      const checks = yield* examine
      const repairs = options.fix ? checks.filter((c) => c.repair !== undefined) : []
      let taken: string | null = null
      if (repairs.length > 0) {
        taken = (yield* backup.create()).path
        yield* trySqlite(() => db.transaction(() => repairs.forEach((c) => c.repair!())).immediate())
      }
      const findings = checks.map((c) => (repairs.includes(c) ? { ...c.finding, fixed: true } : c.finding))
      return {
        database: path,
        healthy: findings.every((f) => f.severity !== "error" || f.fixed === true),
        findings,
        backup: taken
      } satisfies DoctorReport
    })

  return { run }
}

/** The replica id of another database file, read-only; undefined when it is not a grove database. */
const replicaOf = (file: string): string | undefined => {
  let other: Database | undefined
  try {
    other = new Database(file, { readonly: true })
    return (other.query("SELECT name FROM replicas WHERE id = 1").get() as { name: string } | null)?.name
  } catch {
    return undefined
  } finally {
    other?.close()
  }
}
