import type { Database } from "bun:sqlite"

/**
 * Fills the search tables from the live tables in one pass: the rows the
 * search triggers of migration 4 keep one at a time (one per epic, task and
 * subtask with source '', one per note with source = the note's id), then the
 * FTS5 index built once from them. Replays load the projection with those
 * triggers off and call this at the end; verify compares the result with the
 * trigger-kept live rows, so the two cannot drift apart unnoticed.
 */
export const fillSearch = (db: Database): void => {
  db.run(
    `INSERT INTO search_rows (entity_id, entity_kind, source, title, body)
     SELECT id, 'epic', '', title, description FROM epics
     UNION ALL SELECT id, 'task', '', title, description FROM tasks
     UNION ALL SELECT id, 'subtask', '', title, description FROM subtasks
     UNION ALL SELECT entity_id, entity_kind, id, '', text FROM notes`
  )
  db.run("INSERT INTO search (search) VALUES ('rebuild')")
}
