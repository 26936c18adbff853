/**
 * Clones of one bare remote, each with its own default database and replica
 * (GROVE_DB is never set), driven through the real CLI in its own process:
 * the fixture of every cross-clone suite (remote, invariants).
 */
import { type CliResult, groveAsync } from "./cli.ts"
import { dbPathOf, git } from "./repo.ts"
import type { Scratch } from "./suite.ts"

export interface Failure {
  readonly code: string
  readonly message: string
  readonly details: any
}

export interface Clone {
  readonly name: string
  readonly dir: string
  readonly db: string
  /** grove ARGS --json in this clone. */
  readonly run: (...args: Array<string>) => Promise<CliResult>
  /** grove ARGS --json, expected to succeed: its data. */
  readonly ok: (...args: Array<string>) => Promise<any>
  /** grove ARGS --json, expected to fail with a domain error (exit 1): its error. */
  readonly fails: (...args: Array<string>) => Promise<Failure>
}

export const describeRun = (args: ReadonlyArray<string>, r: CliResult) => `grove ${args.join(" ")} exited ${r.exitCode}: ${r.stdout}${r.stderr}`

export const makeClone = (dir: string, actor: string): Clone => {
  // Asynchronous, so that the tests of a file (each with its own remote and clones) run concurrently.
  // No GROVE_DB (the neutral environment): each clone has its own default database.
  const run = (...args: Array<string>) => groveAsync(dir, [...args, "--json"], { GROVE_ACTOR: actor })
  return {
    name: actor,
    dir,
    db: dbPathOf(dir),
    run,
    ok: async (...args) => {
      const r = await run(...args)
      if (r.exitCode !== 0 || r.json?.ok !== true) throw new Error(describeRun(args, r))
      return r.json.data
    },
    fails: async (...args) => {
      const r = await run(...args)
      if (r.exitCode !== 1 || r.json?.ok !== false) throw new Error(`expected a domain error: ${describeRun(args, r)}`)
      return r.json.error as Failure
    }
  }
}

export interface World {
  readonly base: string
  /** The bare repository every clone's origin points at. */
  readonly bare: string
  readonly clones: ReadonlyArray<Clone>
  /** Another bare repository (a second remote). */
  readonly newBare: (name: string) => string
}

/** A bare remote with one commit on main, and one clone per actor (origin = the remote, main tracking origin/main). */
export const makeWorld = (temp: Scratch, actors: ReadonlyArray<string>): World => {
  const seed = temp.repo()
  const bare = seed.addOrigin()
  const clones = actors.map((actor) => {
    const dir = seed.addClone(actor)
    git(dir, "config", "user.email", `${actor}@example.com`)
    git(dir, "config", "user.name", actor)
    return makeClone(dir, actor)
  })
  return { base: seed.base, bare, clones, newBare: seed.addBare }
}

/** An epic with tasks, created in `a` and fetched by `b`. */
export const sharedTasks = async (a: Clone, b: Clone, titles: ReadonlyArray<string>) => {
  const epic = (await a.ok("epic", "create", "--title", "Search")).id as string
  const tasks: Array<string> = []
  for (const title of titles) tasks.push((await a.ok("task", "create", "--epic", epic, "--title", title)).id)
  await a.ok("sync", "push")
  await b.ok("sync", "fetch")
  return { epic, tasks }
}

/**
 * A cycle made apart: `b` adds the edge y -> x, `a` the edge x -> y, both push, and `a` fetches.
 * Returns the invariant conflicts that fetch created.
 */
export const opposedEdges = async (a: Clone, b: Clone, x: string, y: string): Promise<ReadonlyArray<string>> => {
  await b.ok("dep", "add", y, x)
  await a.ok("dep", "add", x, y)
  await a.ok("sync", "push")
  await b.ok("sync", "push")
  return (await a.ok("sync", "fetch")).invariantConflicts.created
}
