import { Context, Effect, Either, Layer } from "effect"
import { GroveError } from "../errors/index.ts"
import { trySqlite } from "../storage/errors.ts"
import { Sqlite } from "../storage/Sqlite.ts"
import { CausalState } from "../causality/CausalState.ts"
import { Writer } from "../write/Writer.ts"
import { GitContext } from "../events/GitContext.ts"
import { invariantId } from "../causality/InvariantStore.ts"
import { checkInvariants } from "../sync/InvariantCheck.ts"
import { Touched } from "../projections/Invariants.ts"
import { type Bundle, encodeBundle, openBundle, parseBundleName } from "./Bundle.ts"
import { makeExporter, type StoredStream } from "./Export.ts"
import { type FetchedBundle, makeImporter, type Refusal } from "./Import.ts"
import { localReplicaName } from "../events/streams.ts"
import { refOf, streamOfRef, type TreeEntry, Transport } from "./Transport.ts"
import { type Authentication, authenticate, bundleCheckpoint, checkpointsAfter, pinnedKey, sign, signingKey, storeCheckpoints } from "./Signing.ts"

export class BundleCorrupt extends GroveError("BundleCorrupt", "bundle_corrupt") {}
export class HistoryRewritten extends GroveError("HistoryRewritten", "history_rewritten") {}
export class BundleUnauthenticated extends GroveError("BundleUnauthenticated", "bundle_unauthenticated") {}
export class PushRejected extends GroveError("PushRejected", "push_rejected") {}

export interface FetchReport {
  readonly remote: string
  /** grove refs on the remote (one per stream of every clone that pushed). */
  readonly refs: number
  readonly imported: number
  /** Events of the remote this database held already. */
  readonly known: number
  /** Events whose causal past has not reached the remote yet: a later fetch imports them. */
  readonly waiting: number
  readonly quarantined: number
  readonly quarantinedByReason: Readonly<Record<string, number>>
  readonly refused: ReadonlyArray<Refusal>
  /**
   * Refs imported whose newest bundle is unsigned: their replica has never been seen signing (it pushed
   * before signing existed), so what they hold is not authenticated (docs/security.md).
   */
  readonly unsigned: ReadonlyArray<string>
  /** Refs skipped because their quarantine was dropped at their current tip (`sync quarantine drop`). */
  readonly dropped: ReadonlyArray<string>
  /** Invariant conflicts (`i<N>`) this fetch recorded in its scope, and those it found no longer hold. */
  readonly invariantConflicts: { readonly created: ReadonlyArray<string>; readonly settled: ReadonlyArray<string> }
}

export interface PushReport {
  readonly remote: string
  /** What the fetch before the (last) push brought. */
  readonly fetched: FetchReport
  readonly pushed: ReadonlyArray<{ readonly ref: string; readonly from: number; readonly to: number }>
  /** Pushes tried: more than one when someone else pushed first and this one fetched and tried again. */
  readonly attempts: number
  /**
   * Other clones' refs the fetch refused (quarantined): not pushed to, reported, and no obstacle to this
   * clone's own refs. `sync quarantine list` shows them.
   */
  readonly held: ReadonlyArray<Refusal>
}

export interface RemoteOptions {
  /** Events per import transaction (default 2000). */
  readonly batchSize?: number
}

/** Pushes after a rejection before giving up: each one fetches first. */
export const pushAttempts = 5

/**
 * `sync fetch` and `sync push`: this database's events travel to other clones
 * as bundles under grove's refs on a git remote, and theirs come back.
 */
export class Remote extends Context.Tag("grove/Remote")<Remote, ReturnType<typeof makeRemote>>() {
  static readonly layer = Layer.effect(
    Remote,
    Effect.gen(function*() {
      return makeRemote(yield* Sqlite, yield* CausalState, yield* Transport, yield* Writer, yield* GitContext)
    })
  ).pipe(Layer.provideMerge(Transport.layer))
}

const makeRemote = (
  { db, transaction }: typeof Sqlite.Service,
  { knowledge }: typeof CausalState.Service,
  transport: typeof Transport.Service,
  writer: typeof Writer.Service,
  git: typeof GitContext.Service
) => {
  const exporter = makeExporter(db, knowledge)
  const importer = makeImporter(db, knowledge)

  const highestPos = (replica: string, branch: string) =>
    (db.query(
      `SELECT coalesce(max(e.pos), 0) AS pos FROM events e JOIN streams s ON s.id = e.stream_id JOIN replicas r ON r.id = s.replica_id
       WHERE r.name = ? AND s.branch = ?`
    ).get(replica, branch) as { pos: number }).pos

  /** A ref's bundles, checked against the tip verified before: append-only, contiguous from position 1. */
  const inspect = (remote: string, ref: string, tip: string) =>
    Effect.gen(function*() {
      const refuse = (code: Refusal["code"], detail: string) => Either.left<Refusal>({ ref, code, detail })
      const stream = streamOfRef(ref)
      if (stream === undefined) return refuse("bundle_corrupt", `refs/grove/${ref} does not name a stream (<replica>/<branch>)`)
      const entries = yield* transport.treeOf(tip)
      // grove never writes a commit without bundles: an empty tip is someone else's doing, not an empty stream.
      if (entries.length === 0) return refuse("bundle_corrupt", `refs/grove/${ref} at ${tip} holds no bundles`)
      let to = 0
      for (const e of entries) {
        const name = parseBundleName(e.name)
        if (e.type !== "blob" || name === undefined || name.from !== to + 1 || name.to < name.from) {
          return refuse("bundle_corrupt", `${e.name} at ${tip} is not the bundle that follows position ${to}`)
        }
        to = name.to
      }
      const verified = yield* trySqlite(() =>
        (db.query("SELECT tip FROM remote_refs WHERE remote = ? AND ref = ?").get(remote, ref) as { tip: string } | null)?.tip
      )
      if (verified !== undefined && verified !== tip) {
        const before = (yield* transport.isAncestor(verified, tip)) ? yield* transport.treeOf(verified) : undefined
        const kept = before?.every((old) => entries.some((e) => e.name === old.name && e.blob === old.blob))
        if (kept !== true) return refuse("history_rewritten", `refs/grove/${ref} moved from ${verified} to ${tip}, which does not keep every bundle it had`)
      }
      // New bundles; and held ones, compared with what is here: all of them from a tip never verified,
      // else the newest (the older ones are the verified tip's, kept unchanged).
      const have = yield* trySqlite(() => highestPos(stream.replica, stream.branch))
      const held = entries.filter((e) => parseBundleName(e.name)!.to <= have)
      const compared = verified === undefined ? held : held.slice(-1)
      const needed = entries.filter((e) => compared.includes(e) || parseBundleName(e.name)!.to > have)
      return Either.right({ stream, needed, entries, to, have })
    })

  const record = (remote: string, tips: ReadonlyMap<string, string>, refused: ReadonlyArray<Refusal>, authentication: Authentication) =>
    trySqlite(() => {
      const refusedRefs = new Set(refused.map((r) => r.ref))
      for (const p of authentication.pins) {
        if (refusedRefs.has(p.ref)) continue
        db.query("INSERT OR IGNORE INTO pinned_keys (replica, public_key, remote, pinned_at) VALUES (?, ?, ?, ?)").run(p.replica, p.publicKey, remote, Date.now())
      }
      storeCheckpoints(db, authentication.checkpoints.filter((c) => !refusedRefs.has(c.ref)))
      for (const [ref, tip] of tips) {
        if (refusedRefs.has(ref)) continue
        db.query("INSERT INTO remote_refs (remote, ref, tip) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET tip = excluded.tip").run(remote, ref, tip)
        // The ref is good again (it moved to a tip that verifies): what held it back is over.
        db.query("DELETE FROM remote_quarantine WHERE remote = ? AND ref = ?").run(remote, ref)
      }
      for (const r of refused) {
        db.query(
          "INSERT OR IGNORE INTO remote_quarantine (remote, ref, tip, bundle, code, detail, quarantined_at) VALUES (?, ?, ?, NULL, ?, ?, ?)"
        ).run(remote, r.ref, tips.get(r.ref) ?? "", r.code, r.detail, Date.now())
      }
    })

  /** Imports what the remote's refs (as last fetched) hold that this database lacks. */
  const importFrom = (remote: string, options: RemoteOptions) =>
    Effect.gen(function*() {
      const tips = new Map(yield* transport.tips(remote))
      const dropped = yield* trySqlite(() =>
        (db.query("SELECT ref, tip FROM remote_quarantine WHERE remote = ? AND dropped_at IS NOT NULL").all(remote) as Array<{ ref: string; tip: string }>)
          .filter((d) => tips.get(d.ref) === d.tip).map((d) => d.ref)
      )
      for (const ref of dropped) tips.delete(ref)
      const refused: Array<Refusal> = []
      const wanted: Array<{ ref: string; stream: { replica: string; branch: string }; entry: TreeEntry }> = []
      const have = new Map<string, number>()
      for (const [ref, tip] of tips) {
        const inspected = yield* inspect(remote, ref, tip)
        if (Either.isLeft(inspected)) refused.push(inspected.left)
        else {
          have.set(ref, inspected.right.have)
          for (const entry of inspected.right.needed) wanted.push({ ref, stream: inspected.right.stream, entry })
        }
      }
      const blobs = yield* transport.readBlobs([...new Set(wanted.map((w) => w.entry.blob))])
      const bundles: Array<FetchedBundle> = []
      const broken = new Set<string>()
      for (const w of wanted) {
        const bytes = blobs.get(w.entry.blob)
        const opened = bytes === undefined
          ? Either.left(`bundle ${w.entry.name} is missing from the repository`)
          : openBundle(w.entry.name, bytes, w.stream)
        if (Either.isLeft(opened)) {
          if (!broken.has(w.ref)) refused.push({ ref: w.ref, code: "bundle_corrupt", detail: opened.left })
          broken.add(w.ref)
        } else bundles.push({ ref: w.ref, name: w.entry.name, bundle: opened.right })
      }
      const authentication = yield* authenticate(
        db,
        [...have].filter(([ref]) => !broken.has(ref)).map(([ref, h]) => ({ ref, have: h, bundles: bundles.filter((b) => b.ref === ref) }))
      )
      refused.push(...authentication.refused)
      for (const r of authentication.refused) broken.add(r.ref)
      const plan = yield* trySqlite(() => importer.plan(bundles.filter((b) => !broken.has(b.ref))))
      refused.push(...plan.refused)
      const batchSize = options.batchSize ?? 2000
      let imported = 0
      let quarantined = 0
      const byReason: Record<string, number> = {}
      // What the import made exist or not, where an invariant can break (docs/sync.md, Invariant conflicts).
      const touched = new Touched()
      for (const c of plan.order) touched.add(c.event.op, c.event.entity)
      for (let i = 0; i < plan.order.length; i += batchSize) {
        const batch = plan.order.slice(i, i + batchSize)
        const r = yield* transaction(Effect.flatMap(trySqlite(() => importer.prepare(batch)), writer.absorb))
        imported += r.imported
        quarantined += r.quarantined
        for (const [k, n] of Object.entries(r.quarantinedByReason)) byReason[k] = (byReason[k] ?? 0) + n
        // A macrotask turn between batches, so a signal lands between transactions.
        yield* Effect.sleep(0)
      }
      const context = yield* git.resolve
      // The refs and the invariant check in one write transaction; the check's outcome, if any, is a knowledge event on this branch.
      const detection = yield* writer.write((emit) =>
        Effect.zipRight(
          record(remote, tips, refused, authentication),
          checkInvariants(db, emit, { branch: context.stream, via: "fetch", source: remote }, touched)
        ), context)
      const refusedRefs = new Set(refused.map((r) => r.ref))
      return {
        remote,
        refs: tips.size + dropped.length,
        imported,
        known: plan.known,
        waiting: plan.waiting,
        quarantined,
        quarantinedByReason: byReason,
        refused,
        unsigned: authentication.unsigned.filter((ref) => !refusedRefs.has(ref)),
        dropped,
        invariantConflicts: { created: detection.created.map(invariantId), settled: detection.settled.map(invariantId) }
      } satisfies FetchReport
    })

  /** Fetches the remote's grove refs and imports what they hold. Refused refs are reported, the rest imported. */
  const fetchFrom = (remote: string, options: RemoteOptions) =>
    Effect.zipRight(transport.fetchRefs(remote), importFrom(remote, options))

  const failOnRefusal = (report: FetchReport) => {
    const first = report.refused[0]
    if (first === undefined) return Effect.void
    const Refused = first.code === "bundle_corrupt" ? BundleCorrupt : first.code === "bundle_unauthenticated" ? BundleUnauthenticated : HistoryRewritten
    return Effect.fail(
      new Refused({
        message: `refused ${report.refused.length} grove ref${report.refused.length === 1 ? "" : "s"} of ${report.remote}: ${
          report.refused.map((r) => `${r.ref}: ${r.detail}`).join("; ")
        }. Nothing they hold was imported; the rest of the fetch was (${report.imported} events).`,
        details: { ...report }
      })
    )
  }

  const fetch = (remote: string | undefined, options: RemoteOptions = {}) =>
    Effect.gen(function*() {
      const name = yield* transport.resolveRemote(remote)
      const report = yield* fetchFrom(name, options)
      yield* failOnRefusal(report)
      return report
    })

  /**
   * A stream's bundles after `after`, signed: this database's own streams with
   * its key (created by the first push that needs it); another replica's with
   * the signatures its writer made, so each bundle ends at a signed position
   * and what follows the last one waits; a replica never seen signing's as
   * they came, unsigned.
   */
  const signed = (stream: StoredStream, after: number) =>
    Effect.gen(function*() {
      if (stream.replica === (yield* trySqlite(() => localReplicaName(db)))) {
        const key = yield* signingKey(db)
        const bundles: Array<Bundle & { readonly signature: { readonly key: string; readonly sig: string } }> = []
        for (const b of yield* trySqlite(() => exporter.bundles(stream, after))) {
          bundles.push({ ...b, signature: { key: key.publicKey, sig: yield* sign(key, bundleCheckpoint(b)!) } })
        }
        // Kept like imported ones, so this stream is relayed with them once it is another replica's (sync replica --renew).
        yield* trySqlite(() =>
          db.transaction(() => storeCheckpoints(db, bundles.map((b) => ({ replica: b.replica, branch: b.branch, pos: b.to, signature: b.signature.sig }))))
            .immediate()
        )
        return bundles
      }
      const key = yield* trySqlite(() => pinnedKey(db, stream.replica))
      if (key === undefined) return yield* trySqlite(() => exporter.bundles(stream, after))
      const checkpoints = yield* trySqlite(() => checkpointsAfter(db, stream.replica, stream.branch, after))
      return (yield* trySqlite(() => exporter.bundles(stream, after, [...checkpoints.keys()]))).map((b) => ({
        ...b,
        signature: { key, sig: checkpoints.get(b.to)! }
      }))
    })

  /**
   * Fetches, then appends this database's events the remote lacks to each
   * stream's ref and pushes them in one atomic `git push`, never forced. When
   * someone else moved a ref first, it fetches and tries again.
   */
  const push = (remote: string | undefined, options: RemoteOptions = {}) =>
    Effect.gen(function*() {
      const name = yield* transport.resolveRemote(remote)
      const me = yield* trySqlite(() => localReplicaName(db))
      for (let attempt = 1;; attempt++) {
        const fetched = yield* fetchFrom(name, options)
        // Only this clone's own refs must be sound for it to publish: a refused ref of another clone is
        // reported and left alone (never appended to), so nobody can stop this clone's events leaving.
        const own = fetched.refused.filter((r) => streamOfRef(r.ref)?.replica === me)
        yield* failOnRefusal({ ...fetched, refused: own })
        const held = fetched.refused.filter((r) => !own.includes(r))
        const untouchable = new Set([...held.map((r) => r.ref), ...fetched.dropped])
        const tips = yield* transport.tips(name)
        const updates: Array<{ ref: string; commit: string; from: number; to: number }> = []
        for (const stream of yield* trySqlite(() => exporter.streams())) {
          const ref = refOf(stream.replica, stream.branch)
          if (untouchable.has(ref)) continue
          const tip = tips.get(ref)
          const entries = tip === undefined ? [] : yield* transport.treeOf(tip)
          const remoteTo = entries.reduce((to, e) => Math.max(to, parseBundleName(e.name)?.to ?? 0), 0)
          if (stream.pos <= remoteTo) continue
          const bundles = yield* signed(stream, remoteTo)
          if (bundles.length === 0) continue
          const to = bundles[bundles.length - 1]!.to
          const commit = yield* transport.appendBundles(
            tip,
            entries,
            bundles.map(encodeBundle),
            `grove: ${stream.branch}@${stream.replica} events ${remoteTo + 1}-${to}`
          )
          updates.push({ ref, commit, from: remoteTo + 1, to })
        }
        const outcomes = yield* transport.push(name, updates)
        const rejected = outcomes.filter((o) => !o.accepted)
        if (rejected.length === 0) {
          return { remote: name, fetched, pushed: updates.map(({ ref, from, to }) => ({ ref, from, to })), attempts: attempt, held } satisfies PushReport
        }
        if (attempt === pushAttempts) {
          return yield* new PushRejected({
            message: `${name} rejected the push ${attempt} times (someone pushed first each time): ${rejected.map((r) => `${r.ref} ${r.reason}`).join("; ")}`,
            details: { remote: name, attempts: attempt, rejected }
          })
        }
      }
    })

  /** Fetches and imports without failing on refused refs: the report says which were refused. */
  const recheck = (remote: string, options: RemoteOptions = {}) => fetchFrom(remote, options)

  return { fetch, push, recheck }
}
