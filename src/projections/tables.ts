/** The projection tables, in dependency-free order, with the key that orders their rows. */
export const projectionTables = [
  { name: "epics", key: "id" },
  { name: "tasks", key: "id" },
  { name: "subtasks", key: "id" },
  { name: "dependencies", key: "source_kind, source_id, target_kind, target_id" },
  { name: "leases", key: "entity_id" },
  { name: "notes", key: "id" },
  { name: "plan_keys", key: "plan, key" },
  // Kept by triggers on epics, tasks and subtasks (migration 12): how many rows are live in each status.
  { name: "status_counts", key: "kind, status" },
  // Kept by triggers on the tables above (migration 4): the rows search matches, and their FTS5 index.
  { name: "search_rows", key: "entity_id, source" },
  { name: "search", key: "title, body" }
] as const

/** The table an entity of each kind lives in: the one place that maps kinds to tables. */
export const tableOf = { epic: "epics", task: "tasks", subtask: "subtasks" } as const
export type EntityTable = (typeof tableOf)[keyof typeof tableOf]
