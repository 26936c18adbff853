/**
 * What the before/after scripts (pullAgainst.ts, rebuildAgainst.ts) share:
 * their command line, this checkout's root, and the scenario both checkouts
 * run on.
 */
import * as NodePath from "node:path"

export const args = process.argv.slice(2)

/** The value after option `name`, if given. */
export const opt = (name: string): string | undefined => {
  const i = args.indexOf(name)
  return i === -1 ? undefined : args[i + 1]
}

/** This checkout's root. */
export const here = NodePath.resolve(import.meta.dir, "..")

/** The scenario, built once by this checkout: its repository, its database, and the snapshot every run starts from. */
export interface Built {
  readonly root: string
  readonly db: string
  readonly snapshot: string
}
