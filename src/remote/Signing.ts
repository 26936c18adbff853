import type { Database } from "bun:sqlite"
import { Effect } from "effect"
import { localReplicaName } from "../events/streams.ts"
import { trySqlite } from "../storage/errors.ts"
import type { Bundle } from "./Bundle.ts"
import type { FetchedBundle, Refusal } from "./Import.ts"

/**
 * Signed bundles (docs/security.md, "Trust model"). Each database (replica)
 * has an ed25519 key pair, created by its first push. What it signs is a
 * checkpoint of one of its streams: the stream, a position and the digest of
 * the event there. The hash chain makes that digest stand for every event up
 * to the position (content, git context, actor), so one signature per bundle,
 * at its last position, authenticates the bundle and everything before it. A
 * checkpoint, unlike the bundle's bytes, is the same in every clone that holds
 * the stream, so a clone relaying another replica's stream relays its
 * signatures too (`checkpoint_signatures`).
 *
 * A fetch pins a replica's key the first time it sees it sign; from then on a
 * bundle of that replica signed by another key, with a signature that does not
 * verify, or unsigned, is refused (`bundle_unauthenticated`).
 */
const algorithm = "Ed25519"

const base64 = (bytes: ArrayBuffer | Uint8Array) => Buffer.from(bytes as Uint8Array).toString("base64")
const bytesOf = (text: string) => new Uint8Array(Buffer.from(text, "base64"))

/** What a replica signs: a stream's chain head at a position. Domain-separated, so it signs nothing else. */
export const checkpointMessage = (replica: string, branch: string, pos: number, digest: string): Uint8Array<ArrayBuffer> =>
  new TextEncoder().encode(`grove checkpoint 1\n${replica}\n${branch}\n${pos}\n${digest}`)

export interface SigningKey {
  /** Raw 32-byte public key, base64. */
  readonly publicKey: string
  readonly privateKey: CryptoKey
}

const readOwnKey = (db: Database) =>
  db.query("SELECT public_key, private_key FROM signing_key WHERE id = 1").get() as { public_key: string; private_key: string } | null

/** This database's public key, if it has signed anything yet. */
export const ownPublicKey = (db: Database): string | undefined => readOwnKey(db)?.public_key

/**
 * This database's key pair, created the first time it is needed (a push):
 * ordinary commands never pay for it. Two processes racing keep the first one
 * stored.
 */
export const signingKey = (db: Database) =>
  Effect.gen(function*() {
    let row = yield* trySqlite(() => readOwnKey(db))
    if (row === null) {
      const pair = yield* Effect.promise(() => crypto.subtle.generateKey("Ed25519", true, ["sign", "verify"]) as Promise<CryptoKeyPair>)
      const publicKey = base64(yield* Effect.promise(() => crypto.subtle.exportKey("raw", pair.publicKey)))
      const privateKey = base64(yield* Effect.promise(() => crypto.subtle.exportKey("pkcs8", pair.privateKey)))
      row = yield* trySqlite(() => {
        db.query("INSERT OR IGNORE INTO signing_key (id, public_key, private_key, created_at) VALUES (1, ?, ?, ?)").run(publicKey, privateKey, Date.now())
        return readOwnKey(db)!
      })
    }
    const stored = row
    const privateKey = yield* Effect.promise(() => crypto.subtle.importKey("pkcs8", bytesOf(stored.private_key), algorithm, false, ["sign"]))
    return { publicKey: stored.public_key, privateKey } satisfies SigningKey
  })

export const sign = (key: SigningKey, message: Uint8Array<ArrayBuffer>) =>
  Effect.map(Effect.promise(() => crypto.subtle.sign(algorithm, key.privateKey, message)), base64)

/** Does `signature` verify `message` under `publicKey`? A malformed key or signature does not. */
export const verifies = (publicKey: string, signature: string, message: Uint8Array<ArrayBuffer>) =>
  Effect.promise(async () => {
    try {
      const key = await crypto.subtle.importKey("raw", bytesOf(publicKey), algorithm, false, ["verify"])
      return await crypto.subtle.verify(algorithm, key, bytesOf(signature), message)
    } catch {
      return false
    }
  })

/** The key a replica's bundles must be signed with here: this database's own, or the one pinned for it. */
export const pinnedKey = (db: Database, replica: string): string | undefined =>
  replica === localReplicaName(db)
    ? ownPublicKey(db)
    : (db.query("SELECT public_key FROM pinned_keys WHERE replica = ?").get(replica) as { public_key: string } | null)?.public_key

export interface PinnedKey {
  readonly replica: string
  readonly publicKey: string
  readonly remote: string
  readonly pinnedAt: string
}

export const pinnedKeys = (db: Database): Array<PinnedKey> =>
  (db.query("SELECT replica, public_key, remote, pinned_at FROM pinned_keys ORDER BY replica").all() as Array<
    { replica: string; public_key: string; remote: string; pinned_at: number }
  >).map((r) => ({ replica: r.replica, publicKey: r.public_key, remote: r.remote, pinnedAt: new Date(r.pinned_at).toISOString() }))

/**
 * A copied database that takes a new replica id gives up the key it copied:
 * the original keeps signing with it, so here it becomes the old replica's
 * pinned key, and this database creates its own at its next push.
 */
export const handOverKey = (db: Database, previous: string) => {
  const own = ownPublicKey(db)
  if (own === undefined) return
  db.query("INSERT OR REPLACE INTO pinned_keys (replica, public_key, remote, pinned_at) VALUES (?, ?, '', ?)").run(previous, own, Date.now())
  db.query("DELETE FROM signing_key WHERE id = 1").run()
}

export interface Checkpoint {
  readonly replica: string
  readonly branch: string
  readonly pos: number
  readonly signature: string
}

export const storeCheckpoints = (db: Database, checkpoints: ReadonlyArray<Checkpoint>) => {
  const insert = db.query("INSERT OR IGNORE INTO checkpoint_signatures (replica, branch, pos, signature) VALUES (?, ?, ?, ?)")
  for (const c of checkpoints) insert.run(c.replica, c.branch, c.pos, c.signature)
}

/** The positions after `after` at which a stream has a signed checkpoint here, ascending, with their signatures. */
export const checkpointsAfter = (db: Database, replica: string, branch: string, after: number): Map<number, string> =>
  new Map(
    (db.query("SELECT pos, signature FROM checkpoint_signatures WHERE replica = ? AND branch = ? AND pos > ? ORDER BY pos").all(replica, branch, after) as Array<
      { pos: number; signature: string }
    >).map((r) => [r.pos, r.signature])
  )

/** The signature a bundle carries: its replica's key and the signature of its last position's checkpoint. */
export const bundleCheckpoint = (b: Bundle) => {
  const last = b.events[b.events.length - 1]
  return last?.digest === undefined ? undefined : checkpointMessage(b.replica, b.branch, b.to, last.digest)
}

/** What a fetch learnt about keys: refs refused, keys to pin, signatures to keep, refs still unsigned. */
export interface Authentication {
  readonly refused: ReadonlyArray<Refusal>
  readonly pins: ReadonlyArray<{ readonly ref: string; readonly replica: string; readonly publicKey: string }>
  readonly checkpoints: ReadonlyArray<Checkpoint & { readonly ref: string }>
  /** Refs whose newest imported bundle is unsigned (their replica never signed): imported, not authenticated. */
  readonly unsigned: ReadonlyArray<string>
}

/**
 * Checks the signatures of the new bundles of each ref (in position order):
 * once a replica's key is known (pinned, this database's own, or seen earlier
 * in this fetch), each of its bundles must be signed by it over the digest of
 * its last event. Unsigned bundles of a replica never seen signing pass, as
 * before signing existed, and are reported. The digest signed is the one the
 * bundle claims; the import recomputes every digest from the events' content
 * (`bundle_corrupt` on a mismatch), so together they authenticate the content.
 */
export const authenticate = (db: Database, refs: ReadonlyArray<{ readonly ref: string; readonly have: number; readonly bundles: ReadonlyArray<FetchedBundle> }>) =>
  Effect.gen(function*() {
    const refused: Array<Refusal> = []
    const pins: Array<Authentication["pins"][number]> = []
    const checkpoints: Array<Authentication["checkpoints"][number]> = []
    const unsigned: Array<string> = []
    const seen = new Map<string, string>()
    for (const { ref, have, bundles } of refs) {
      const fresh = bundles.filter((b) => b.bundle.to > have).sort((x, y) => x.bundle.from - y.bundle.from)
      if (fresh.length === 0) continue
      const replica = fresh[0]!.bundle.replica
      const known = yield* trySqlite(() => ({ key: pinnedKey(db, replica), own: replica === localReplicaName(db) }))
      let key = known.key ?? seen.get(replica)
      const refuse = (detail: string) => refused.push({ ref, code: "bundle_unauthenticated", detail })
      const found: typeof checkpoints = []
      let failed = false
      for (const { name, bundle } of fresh) {
        const signature = bundle.signature
        if (signature === undefined) {
          if (key === undefined) continue
          refuse(`bundle ${name} is unsigned, but replica ${replica} signs with key ${key}`)
          failed = true
          break
        }
        if (key !== undefined && signature.key !== key) {
          refuse(`bundle ${name} is signed by key ${signature.key}, not by replica ${replica}'s key ${key}`)
          failed = true
          break
        }
        const message = bundleCheckpoint(bundle)
        if (message === undefined || !(yield* verifies(signature.key, signature.sig, message))) {
          refuse(`bundle ${name}: its signature does not verify (key ${signature.key}, position ${bundle.to})`)
          failed = true
          break
        }
        key = signature.key
        found.push({ ref, replica, branch: bundle.branch, pos: bundle.to, signature: signature.sig })
      }
      if (failed) continue
      if (key !== undefined) {
        seen.set(replica, key)
        // Every ref that saw it sign proposes the pin: the fetch keeps it for the refs it does not refuse.
        if (known.key === undefined && !known.own) pins.push({ ref, replica, publicKey: key })
      }
      checkpoints.push(...found)
      if (fresh[fresh.length - 1]!.bundle.signature === undefined) unsigned.push(ref)
    }
    return { refused, pins, checkpoints, unsigned } satisfies Authentication
  })
