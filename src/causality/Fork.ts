import type { Database } from "bun:sqlite"
import { newestBefore, streamsAtHead } from "../events/log.ts"
import { localReplica, localStreamId, streamName } from "../events/streams.ts"
import type { BranchStart } from "../git/BranchStart.ts"
import type { Frontier } from "./causality.ts"
import { join, type Knowledge } from "./Knowledge.ts"

/** What a new branch inherits: the stream it started from and that stream's knowledge then. */
export interface Inheritance {
  readonly source: string
  readonly knowledge: Frontier
}

/**
 * A new branch starts with what its start point knew when it was created, as
 * in git (docs/sync.md "New branches"): the branch git's reflog says it was
 * created from, else the one stream whose recorded head, just before the
 * creation, is the commit it started at. Its knowledge then is its newest
 * event before the creation (strictly before the reflog's second, so nothing
 * written after the fork is taken as known) with that event's causal context.
 * undefined when no start point is known: the branch starts empty.
 */
export const makeFork = (db: Database, knowledge: Knowledge) => ({
  inheritance: (self: number, start: BranchStart | undefined): Inheritance | undefined => {
    if (start === undefined) return undefined
    const named = start.from === null ? undefined : localStreamId(db, start.from)
    const candidates = named !== undefined ? [named] : start.from === null ? streamsAtHead(db, localReplica, start.commit, start.at) : []
    const source = candidates.filter((s) => s !== self)
    if (source.length !== 1) return undefined
    const newest = newestBefore(db, source[0]!, start.at)
    if (newest === undefined) return undefined
    return { source: streamName(db, source[0]!), knowledge: join(self, { [newest.stream_id]: newest.seq }, knowledge.byId(newest.frontier_id)) }
  }
})

export type Fork = ReturnType<typeof makeFork>
