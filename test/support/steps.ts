/** One-line tracker and sync steps that scenario tests share, each run inside a grove command (inWorktree). */
import { Effect } from "effect"
import { Sync } from "../../src/sync/Sync.ts"
import { type EntityKindName, type Patch, Tracker } from "../../src/tracker/Tracker.ts"
import { inWorktree } from "./effect.ts"

/** Creates an entity titled `title` and returns its id. */
export const createEntity = (kind: EntityKindName, parent: string | undefined, title: string) =>
  Effect.map(Effect.flatMap(Tracker, (t) => t.create(kind, parent, { title })), (e) => e.id)

/** Updates a task, guarded by --if-version when given. */
export const updateTask = (id: string, patch: Patch, ifVersion?: number) => Effect.flatMap(Tracker, (t) => t.update("task", id, patch, ifVersion))

/** A task's version, as --if-version expects it. */
export const taskVersion = (id: string) => Effect.map(Effect.flatMap(Tracker, (t) => t.find("task", id)), (e) => e.version)

/** `grove sync pull <from>` in the worktree at `cwd`. */
export const pullInto = (cwd: string, from: string) => inWorktree(cwd, Effect.flatMap(Sync, (s) => s.pull(from)))
