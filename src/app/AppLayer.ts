import { Replay } from "../projections/Replay.ts"
import { Quarantine } from "../remote/Quarantine.ts"
import { Remote } from "../remote/Remote.ts"
import { Conflicts } from "../sync/Conflicts.ts"
import { InvariantConflicts } from "../sync/InvariantConflicts.ts"
import { Sync } from "../sync/Sync.ts"
import { Bulk } from "../tracker/Bulk.ts"
import { type ContextLayer, coreSteps, migrated } from "./CoreLayer.ts"

export { databaseLayer, readerLayer, repositoryLayer, withReader } from "./CoreLayer.ts"

/** Everything the tracker commands need, over the migrated database (`context`: see coreLayer). */
export const trackerLayer = (cwd: string, context?: ContextLayer) =>
  coreSteps(cwd, context).then(Remote.layer).then(Bulk.layer).then(Sync.layer).then(Conflicts.layer).then(InvariantConflicts.layer).then(Quarantine.layer).then(Replay.layer).layer

/** Runs `effect` in the worktree at `cwd` with the tracker services, after bringing the schema up to date. */
export const withTracker = (cwd: string) => migrated(trackerLayer(cwd))
