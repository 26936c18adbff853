import type { Layer } from "effect"
import { EventStore } from "../events/EventStore.ts"
import { GitContext } from "../events/GitContext.ts"
import type { Git } from "../git/Git.ts"
import type { Repository } from "../git/Repository.ts"
import { Projector } from "../projections/Projector.ts"
import { Queries } from "../projections/Queries.ts"
import { CausalState } from "../causality/CausalState.ts"
import { Graph } from "../graph/Graph.ts"
import { Writer } from "../write/Writer.ts"
import { Claims } from "../tracker/Claims.ts"
import { Next } from "../tracker/Next.ts"
import { Pick } from "../tracker/Pick.ts"
import { Tracker } from "../tracker/Tracker.ts"
import { Work } from "../projections/Work.ts"
import { actorFrom } from "./Config.ts"
import { databaseSteps, migrated } from "./ReaderLayer.ts"

export { databaseLayer, migrated, readerLayer, repositoryLayer, withPicker, withReader } from "./ReaderLayer.ts"

/**
 * The layers a single-item command needs: the database (ReaderLayer.ts), its
 * reads, and the write path under the Tracker. Kept apart from AppLayer (bulk, sync,
 * conflicts, remotes, replay) so that a one-row command loads and builds only
 * these modules: start-up is part of every command (benchmarks/latency.ts).
 */

/** Where writes are stamped: a command resolves its git context once; a long-lived server passes `GitContext.live`. */
export type ContextLayer = Layer.Layer<GitContext, never, Git | Repository>

/** The write path: events, projection and the writing stream's causal state (what `sync pull` writes with). */
export const writeSteps = (cwd: string, context: ContextLayer = GitContext.layer(actorFrom(process.env))) =>
  databaseSteps(cwd)
    .then(context)
    .then(EventStore.layer)
    .then(Projector.layer)
    .then(CausalState.layer)
    .then(Writer.layer)

/** The Tracker over the write path: what creating, changing, deleting and linking items needs. */
export const trackerSteps = (cwd: string, context?: ContextLayer) =>
  writeSteps(cwd, context)
    .then(Queries.layer)
    .then(Graph.layer)
    .then(Work.layer)
    .then(Tracker.layer)

/** The Tracker and the agent's loop (claims, picks, next). */
export const coreSteps = (cwd: string, context?: ContextLayer) =>
  trackerSteps(cwd, context)
    .then(Claims.layer)
    .then(Pick.layer)
    .then(Next.layer)

/** The Tracker over the write path, as a layer (`context`: see ContextLayer). */
export const coreLayer = (cwd: string, context?: ContextLayer) => coreSteps(cwd, context).layer

/** Runs `effect` with the Tracker and the agent's loop. */
export const withCore = (cwd: string) => migrated(coreLayer(cwd))

/** Runs `effect` with the Tracker alone: a create, update, delete or link builds no claims or picks. */
export const withTrackerAlone = (cwd: string) => migrated(trackerSteps(cwd).layer)
