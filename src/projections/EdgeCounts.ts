import type { Database } from "bun:sqlite"

/** SQL for "the status of the edge `d`'s target", whichever table it lives in (null when it is not live). */
export const targetStatus = `coalesce(
  (SELECT status FROM tasks WHERE d.target_kind = 'task' AND id = d.target_id),
  (SELECT status FROM subtasks WHERE d.target_kind = 'subtask' AND id = d.target_id))`

/**
 * Counts every task's and subtask's dependency edges in one pass per table
 * and column: `unfinished_deps`, the edges out of it whose target is not done
 * (a target that is not live counts too: an edge whose end was deleted,
 * docs/sync.md "Invariant conflicts"), and `dependents`, the edges into it.
 * For a projection loaded without the triggers of migration 10 that keep both
 * one write at a time: a rebuild and verify's scratch replay, whose rows start
 * at 0. Verify compares the result with the trigger-kept live columns, so the
 * two cannot drift apart unnoticed.
 */
export const fillEdgeCounts = (db: Database): void => {
  // One statement per table: each row is rewritten once, with both counts (a quarter faster than one
  // statement per column at 60,000 tasks and 100,000 edges).
  for (const [kind, table] of [["task", "tasks"], ["subtask", "subtasks"]] as const) {
    db.run(
      `UPDATE ${table} SET unfinished_deps = counted.unfinished, dependents = counted.dependents FROM (
         SELECT id, sum(unfinished) AS unfinished, sum(dependent) AS dependents FROM (
           SELECT d.source_id AS id, 1 AS unfinished, 0 AS dependent FROM dependencies d
           WHERE d.source_kind = '${kind}' AND ${targetStatus} IS NOT 'done'
           UNION ALL SELECT target_id, 0, 1 FROM dependencies WHERE target_kind = '${kind}')
         GROUP BY id) AS counted
       WHERE ${table}.id = counted.id`
    )
  }
}
