import { Effect } from "effect"
import type { Resource, ResourceTemplate } from "@modelcontextprotocol/sdk/types.js"
import { NotFound } from "../errors/index.ts"
import { Queries } from "../projections/Queries.ts"
import { listConflicts } from "../sync/resolve.ts"
import { showEntity } from "../projections/Detail.ts"
import type { ToolServices } from "./tools.ts"

/** The graph as MCP resources: the epics, one task by id, and the pending conflicts of this worktree's scope. */

export const epicsUri = "grove://epics"
export const conflictsUri = "grove://conflicts"
const taskPrefix = "grove://task/"

export const resources: ReadonlyArray<Resource> = [
  { uri: epicsUri, name: "epics", description: "Every epic, oldest first.", mimeType: "application/json" },
  { uri: conflictsUri, name: "conflicts", description: "The pending conflicts of this worktree and branch.", mimeType: "application/json" }
]

export const templates: ReadonlyArray<ResourceTemplate> = [
  {
    uriTemplate: `${taskPrefix}{id}`,
    name: "task",
    description: "A task with its subtasks, dependencies, lease and notes (as task_show).",
    mimeType: "application/json"
  }
]

/** The JSON a resource holds now. */
export const readResource = (uri: string): Effect.Effect<unknown, unknown, ToolServices> => {
  if (uri === epicsUri) return Effect.flatMap(Queries, (q) => q.epics())
  if (uri === conflictsUri) return listConflicts({})
  if (uri.startsWith(taskPrefix) && uri.length > taskPrefix.length) return showEntity("task", decodeURIComponent(uri.slice(taskPrefix.length)))
  return Effect.fail(new NotFound({ message: `no grove resource ${uri}`, details: { uri } }))
}
