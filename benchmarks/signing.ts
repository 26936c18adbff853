/**
 * 10. Signed bundles (src/remote/Signing.ts): what signing adds to a push and
 * verifying to a fetch, per bundle. A replica signs one checkpoint per bundle
 * (its stream, last position and that event's digest: about 150 bytes,
 * whatever the bundle's size) and a fetch verifies it with the pinned key.
 *
 * The baseline is what the same bundle already costs without signatures: a
 * push encodes it (JSON and its sha256 name), a fetch opens it (hash, JSON
 * decode through the bundle's Schema). Bundles of 100 events (a busy push) and
 * 10,000 (the largest grove writes); ratios say how much signing adds.
 */
import { Effect, Either } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { makeTempDir } from "../test/support/repo.ts"
import { eventDigest } from "../src/events/chain.ts"
import { type Bundle, encodeBundle, openBundle } from "../src/remote/Bundle.ts"
import { bundleCheckpoint, sign, signingKey, verifies } from "../src/remote/Signing.ts"
import { migratedRaw, now, row, type Row, settle, stat, target, type BenchContext, type BenchResult, type Target } from "./harness.ts"

/** A bundle of `n` consecutive events shaped like a working stream's, its chain computed as grove does. */
const syntheticBundle = (n: number): Bundle => {
  const replica = "00112233445566aa"
  const tx = { worktree: "/work/repo", head: "0123456789abcdef0123456789abcdef01234567", actor: "alice@example.com", at: 1_760_000_000_000 }
  let prev: string | null = null
  const events = Array.from({ length: n }, (_, i) => {
    const pos = i + 1
    const e = {
      id: `01JC${String(pos).padStart(22, "0")}`,
      pos,
      tx: 0,
      clock: 1_000_000 + pos,
      kind: "task",
      entity: `t-${String(pos % 500).padStart(10, "0")}`,
      op: "task.updated",
      payload: JSON.stringify({ title: `Index documents, step ${pos}`, description: "every file under src/, with its headings" }),
      payloadVersion: 1,
      cause: null,
      ifVersion: false,
      frontier: [] as Array<readonly [number, number]>,
      seen: null
    }
    prev = eventDigest(prev, {
      id: e.id, replica, branch: "main", pos, clock: e.clock, entityKind: e.kind, entityId: e.entity, op: e.op, payload: e.payload,
      payloadVersion: e.payloadVersion, causeId: e.cause, ifVersion: e.ifVersion, ...tx
    })
    return { ...e, digest: prev }
  })
  return { format: 1, replica, branch: "main", from: 1, to: n, streams: [], transactions: [tx], events }
}

const runs = (quick: boolean) => (quick ? 5 : 9)

export const signing = async (ctx: BenchContext): Promise<BenchResult> => {
  const started = now()
  const dir = makeTempDir()
  const db = migratedRaw(NodePath.join(dir, "signing.db"))
  const key = await Effect.runPromise(signingKey(db))
  const rows: Array<Row> = []
  const targets: Array<Target> = []
  const keygen: Array<number> = []
  for (let r = 0; r < runs(ctx.quick); r++) {
    db.run("DELETE FROM signing_key")
    const t0 = now()
    await Effect.runPromise(signingKey(db))
    keygen.push(now() - t0)
  }
  rows.push(row({ benchmark: "signing", case: "key pair, created by a replica's first push (generate, store, import)", unit: "ms", better: "lower", ours: stat(keygen) }))

  for (const n of ctx.quick ? [100] : [100, 10_000]) {
    const bundle = syntheticBundle(n)
    const checkpoint = bundleCheckpoint(bundle)!
    const sig = await Effect.runPromise(sign(key, checkpoint))
    const signed = { ...bundle, signature: { key: key.publicKey, sig } }
    const file = encodeBundle(signed)
    const repeat = n === 100 ? 200 : 2
    const per = async (f: () => unknown) => {
      const out: Array<number> = []
      for (let r = 0; r < runs(ctx.quick); r++) {
        settle()
        const t0 = now()
        for (let i = 0; i < repeat; i++) await f()
        out.push((now() - t0) / repeat)
      }
      return stat(out)
    }
    const signOurs = await per(() => Effect.runPromise(sign(key, bundleCheckpoint(bundle)!)))
    const encodeBase = await per(() => encodeBundle(bundle))
    const verifyOurs = await per(async () => {
      if (!(await Effect.runPromise(verifies(key.publicKey, sig, bundleCheckpoint(signed)!)))) throw new Error("the benchmark's own signature does not verify")
    })
    const openBase = await per(() => {
      if (Either.isLeft(openBundle(file.name, file.bytes, { replica: bundle.replica, branch: bundle.branch }))) throw new Error("the benchmark's bundle does not open")
    })
    rows.push(row({ benchmark: "signing", case: `push: sign one bundle of ${n} events (vs encode + hash it)`, unit: "ms", better: "lower", ours: signOurs, baseline: encodeBase }))
    rows.push(row({ benchmark: "signing", case: `fetch: verify one bundle of ${n} events (vs hash + decode it)`, unit: "ms", better: "lower", ours: verifyOurs, baseline: openBase }))
    // A fixed cost per bundle: the checkpoint is the same size whatever the bundle holds.
    targets.push(target(`${n} events: (sign + verify) / (encode + open), per bundle`, (signOurs.median + verifyOurs.median) / (encodeBase.median + openBase.median), "max", 0.25, "x"))
  }
  db.close()
  NodeFs.rmSync(dir, { recursive: true, force: true })
  return { name: "signing", rows, targets, details: {}, seconds: (now() - started) / 1000 }
}
