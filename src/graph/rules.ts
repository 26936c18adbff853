import type { Status } from "../events/Event.ts"
import { GroveError } from "../errors/index.ts"

export class VersionMismatch extends GroveError("VersionMismatch", "version_mismatch") {}
export class InvalidTransition extends GroveError("InvalidTransition", "invalid_transition") {}
export class DependencyNotDone extends GroveError("DependencyNotDone", "dependency_not_done") {}
export class DependencyCycle extends GroveError("DependencyCycle", "dependency_cycle") {}
export class SelfDependency extends GroveError("SelfDependency", "self_dependency") {}
export class DependencyExists extends GroveError("DependencyExists", "dependency_exists") {}
export class DependencySourceDone extends GroveError("DependencySourceDone", "dependency_source_done") {}

/** The status machine of DESIGN.md section 5. */
export const transitions: Readonly<Record<Status, ReadonlyArray<Status>>> = {
  todo: ["in_progress", "blocked"],
  in_progress: ["done", "blocked"],
  blocked: ["in_progress", "todo"],
  done: ["in_progress"]
}

export const canTransition = (from: Status, to: Status, options: { readonly straightToDone?: boolean } = {}) =>
  transitions[from].includes(to) || (options.straightToDone === true && to === "done" && from !== "done")

/** Entering these statuses requires every dependency to be done. */
export const isGated = (status: Status) => status === "in_progress" || status === "done"
