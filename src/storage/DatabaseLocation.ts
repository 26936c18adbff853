import { Context, Effect, Layer } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { groveDirectory } from "../git/Discover.ts"
import { Repository } from "../git/Repository.ts"
import { StorageConfig } from "./StorageConfig.ts"

/** A database file's canonical path (symlinks resolved), as recorded in `database_home`. */
export const canonicalPath = (path: string): string => {
  try {
    return NodeFs.realpathSync(path)
  } catch {
    return NodePath.resolve(path)
  }
}

/**
 * Where the database file lives: `<git common dir>/grove/grove.db`, so the main
 * checkout and every linked worktree find the same file and git never tracks
 * it. GROVE_DB overrides (relative paths resolve against the working directory).
 */
export class DatabaseLocation extends Context.Tag("grove/DatabaseLocation")<DatabaseLocation, {
  readonly path: string
}>() {
  /** A fixed file, bypassing the repository and the environment (tests, tools). */
  static readonly at = (path: string) => Layer.succeed(DatabaseLocation, { path })

  static readonly layer = Layer.effect(
    DatabaseLocation,
    Effect.gen(function*() {
      const config = yield* StorageConfig
      const repository = yield* Repository
      if (config.explicitPath !== undefined) return { path: NodePath.resolve(repository.cwd, config.explicitPath) }
      const paths = yield* repository.paths
      return { path: NodePath.join(groveDirectory(paths.commonDir), "grove.db") }
    })
  )
}
