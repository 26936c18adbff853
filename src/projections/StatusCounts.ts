import type { Database } from "bun:sqlite"
import type { Status } from "../events/Event.ts"
import { tableOf } from "./tables.ts"

type Kind = keyof typeof tableOf

/**
 * Counts the live epics, tasks and subtasks of each status in one pass per
 * table into `status_counts`, for a projection loaded without the triggers
 * of migration 12 that keep it one write at a time: a rebuild and verify's
 * scratch replay, whose table starts empty. Verify compares the result with
 * the trigger-kept live table, so the two cannot drift apart unnoticed.
 */
export const fillStatusCounts = (db: Database): void => {
  for (const [kind, table] of Object.entries(tableOf)) {
    db.run(`INSERT INTO status_counts (kind, status, n) SELECT '${kind}', status, count(*) FROM ${table} GROUP BY status`)
  }
}

/** How many live rows of `kind` are in any of `statuses` (every status when undefined): one row read per status. */
export const countByStatus = (db: Database, kind: Kind, statuses: ReadonlyArray<Status> | undefined): number =>
  (db.query(
    `SELECT coalesce(sum(n), 0) AS n FROM status_counts WHERE kind = ?${statuses === undefined ? "" : ` AND status IN (${statuses.map(() => "?").join(", ")})`}`
  ).get(kind, ...(statuses ?? [])) as { n: number }).n
