import { Context, Effect, Layer } from "effect"
import { GroveError } from "../errors/index.ts"
import { Git, GitFailed } from "../git/Git.ts"
import { Repository } from "../git/Repository.ts"

export class RemoteNotFound extends GroveError("RemoteNotFound", "remote_not_found") {}

/**
 * grove's refs on a remote: `refs/grove/<replica>/<branch, URI-encoded>`, one
 * per stream, so clones pushing their own streams never touch the same ref.
 * Each ref is a chain of commits whose tree holds every bundle of the stream
 * so far: a push appends one commit (a fast-forward), never rewrites.
 * Fetched refs land in `refs/grove-remotes/<remote>/...`.
 */
export const refPrefix = "refs/grove/"
const trackingPrefix = (remote: string) => `refs/grove-remotes/${remote}/`

/** A stream's ref name below the prefix. */
export const refOf = (replica: string, branch: string) => `${replica}/${encodeURIComponent(branch)}`

/** The stream a ref names, if it is one grove writes. */
export const streamOfRef = (ref: string): { readonly replica: string; readonly branch: string } | undefined => {
  const m = /^([0-9a-f]{16})\/([^/]+)$/.exec(ref)
  if (m === null) return undefined
  try {
    return { replica: m[1]!, branch: decodeURIComponent(m[2]!) }
  } catch {
    return undefined
  }
}

export interface TreeEntry {
  readonly name: string
  readonly blob: string
}

/** What `git push` said of one ref. */
export interface PushOutcome {
  readonly ref: string
  readonly accepted: boolean
  readonly reason: string
}

/** Lowest-level transport: git plumbing in the current repository. */
export class Transport extends Context.Tag("grove/Transport")<Transport, ReturnType<typeof makeTransport>>() {
  static readonly layer = Layer.effect(
    Transport,
    Effect.gen(function*() {
      return makeTransport(yield* Git, yield* Repository)
    })
  )
}

// grove's commits carry a fixed identity: they record bundles, not anyone's work.
const identity = ["-c", "user.name=grove", "-c", "user.email=grove@localhost"]

const makeTransport = (git: typeof Git.Service, repository: typeof Repository.Service) => {
  const cwd = repository.cwd
  const run = (args: ReadonlyArray<string>, input?: string | Uint8Array) => git.run(cwd, args, input)
  const ok = (args: ReadonlyArray<string>, input?: string | Uint8Array) =>
    Effect.flatMap(run(args, input), (r) =>
      r.exitCode === 0
        ? Effect.succeed(r)
        : Effect.fail(new GitFailed({ message: `git ${args.join(" ")} failed: ${r.stderr.trim()}`, details: { exitCode: r.exitCode } })))

  /** REMOTE, else the current branch's upstream remote, else origin; it must be configured. */
  const resolveRemote = (given: string | undefined) =>
    Effect.gen(function*() {
      let name = given
      if (name === undefined) {
        const branch = (yield* run(["symbolic-ref", "--quiet", "--short", "HEAD"])).stdout.trim()
        const upstream = branch === "" ? "" : (yield* run(["config", "--get", `branch.${branch}.remote`])).stdout.trim()
        name = upstream !== "" && upstream !== "." ? upstream : "origin"
      }
      const url = yield* run(["remote", "get-url", name])
      if (url.exitCode !== 0) {
        return yield* new RemoteNotFound({
          message: given === undefined
            ? `no remote to sync with: the branch has no upstream and there is no origin (git remote add origin <url>, or name one)`
            : `unknown remote ${name}: git remote -v lists the configured ones`,
          details: { remote: name }
        })
      }
      return name
    })

  /** Brings the remote's grove refs into the tracking namespace, mirroring it (refs gone there go here). */
  const fetchRefs = (remote: string) =>
    ok(["fetch", "--quiet", "--no-tags", "--prune", "--no-write-fetch-head", remote, `+${refPrefix}*:${trackingPrefix(remote)}*`])

  /** The remote's grove refs as last fetched: ref (below the prefix) -> commit. */
  const tips = (remote: string) =>
    Effect.map(ok(["for-each-ref", "--format=%(objectname) %(refname)", trackingPrefix(remote)]), (r) => {
      const out = new Map<string, string>()
      for (const line of r.stdout.split("\n")) {
        if (line === "") continue
        const [commit, name] = line.split(" ") as [string, string]
        out.set(name.slice(trackingPrefix(remote).length), commit)
      }
      return out
    })

  const treeOf = (commit: string) =>
    Effect.map(ok(["ls-tree", "-z", commit]), (r) =>
      r.stdout.split("\0").filter((l) => l !== "").map((line): TreeEntry & { readonly type: string } => {
        const [meta, name] = line.split("\t") as [string, string]
        const [, type, blob] = meta.split(" ") as [string, string, string]
        return { name, blob, type }
      }))

  /** Is `ancestor` in `commit`'s history (a fast-forward from it)? */
  const isAncestor = (ancestor: string, commit: string) =>
    Effect.map(run(["merge-base", "--is-ancestor", ancestor, commit]), (r) => r.exitCode === 0)

  /** Blob contents, read in one `git cat-file --batch`. */
  const readBlobs = (blobs: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      const out = new Map<string, Uint8Array>()
      if (blobs.length === 0) return out
      const bytes = (yield* ok(["cat-file", "--batch"], blobs.join("\n") + "\n")).bytes
      let at = 0
      for (const blob of blobs) {
        const eol = bytes.indexOf(10, at)
        const header = new TextDecoder().decode(bytes.subarray(at, eol)).split(" ")
        if (header[1] === "missing") {
          at = eol + 1
          continue
        }
        const size = Number(header[2])
        out.set(blob, bytes.subarray(eol + 1, eol + 1 + size))
        at = eol + 1 + size + 1
      }
      return out
    })

  /** A new commit on top of `parent` whose tree is `entries` plus the new bundles. */
  const appendBundles = (
    parent: string | undefined,
    entries: ReadonlyArray<TreeEntry>,
    bundles: ReadonlyArray<{ readonly name: string; readonly bytes: Uint8Array }>,
    message: string
  ) =>
    Effect.gen(function*() {
      const added: Array<TreeEntry> = []
      for (const b of bundles) {
        added.push({ name: b.name, blob: (yield* ok(["hash-object", "-w", "--stdin"], b.bytes)).stdout.trim() })
      }
      const tree = (yield* ok(["mktree", "-z"], [...entries, ...added].map((e) => `100644 blob ${e.blob}\t${e.name}\0`).join(""))).stdout.trim()
      const commit = yield* ok([...identity, "commit-tree", tree, ...(parent === undefined ? [] : ["-p", parent]), "-m", message])
      return commit.stdout.trim()
    })

  /**
   * Pushes commits to grove refs with plain `git push` (never forced): a ref
   * someone else moved first is rejected, and reported so, not overwritten.
   */
  const push = (remote: string, updates: ReadonlyArray<{ readonly ref: string; readonly commit: string }>) =>
    Effect.gen(function*() {
      if (updates.length === 0) return [] as Array<PushOutcome>
      const r = yield* run(["push", "--porcelain", "--atomic", "--no-verify", remote, ...updates.map((u) => `${u.commit}:${refPrefix}${u.ref}`)])
      const outcomes: Array<PushOutcome> = []
      for (const line of r.stdout.split("\n")) {
        const m = /^([ +\-*=!])\t[^\t]*:([^\t]+)\t(.*)$/.exec(line)
        if (m === null || !m[2]!.startsWith(refPrefix)) continue
        outcomes.push({ ref: m[2]!.slice(refPrefix.length), accepted: m[1] !== "!", reason: m[3]! })
      }
      if (r.exitCode !== 0 && outcomes.every((o) => o.accepted)) {
        return yield* new GitFailed({ message: `git push ${remote} failed: ${r.stderr.trim()}`, details: { remote } })
      }
      // A successful push moves the tracking refs too, so the next push builds on what the remote now has.
      const accepted = outcomes.filter((o) => o.accepted)
      if (accepted.length > 0) {
        yield* ok(
          ["update-ref", "--stdin"],
          accepted.map((o) => `update ${trackingPrefix(remote)}${o.ref} ${updates.find((u) => u.ref === o.ref)!.commit}\n`).join("")
        )
      }
      return outcomes
    })

  return { resolveRemote, fetchRefs, tips, treeOf, isAncestor, readBlobs, appendBundles, push }
}
