import type { Dependency, Entity } from "../projections/Queries.ts"

/** One line per entity: id, status, title, owner, version. */
export const entityLine = (e: Entity) =>
  `${e.id}  [${e.status}]  ${e.title}${"owner" in e && e.owner ? `  @${e.owner}` : ""}  v${e.version}`

export const entityLines = (list: ReadonlyArray<Entity>, empty: string) =>
  list.length === 0 ? empty : list.map(entityLine).join("\n")

export const entityDetail = (e: Entity) =>
  [
    `${e.kind} ${e.id}  v${e.version}`,
    `  title:       ${e.title}`,
    `  status:      ${e.status}`,
    ...("owner" in e ? [`  owner:       ${e.owner ?? "-"}`] : []),
    ...("epicId" in e ? [`  epic:        ${e.epicId}`] : []),
    ...("taskId" in e ? [`  task:        ${e.taskId}`] : []),
    ...(e.description ? [`  description: ${e.description}`] : [])
  ].join("\n")

export const edgeLine = (d: Pick<Dependency, "source" | "target">) => `${d.source.id} -> ${d.target.id}`
