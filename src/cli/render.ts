import type { Dependency, Entity } from "../projections/Queries.ts"
import type { Note } from "../projections/Work.ts"

/**
 * Readable text from data. Titles and descriptions come from users and
 * agents: control characters and terminal escape sequences in them are shown
 * escaped (`\u001b`), never sent to the terminal, and list lines cut long
 * fields so one entity stays one line. `show` prints fields whole.
 */

// eslint-disable-next-line no-control-regex
const control = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g

/** Control characters (and with them every ANSI sequence) as visible escapes; newlines and tabs kept. */
export const safe = (text: string) => text.replace(control, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)

/** One line of at most `max` characters: escaped, newlines shown as ⏎, cut with an ellipsis. */
export const cell = (text: string, max = 80) => {
  const line = safe(text).replace(/\r?\n|\t/g, (c) => (c === "\t" ? " " : "⏎"))
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}

/** One line per entity: id, status, title, owner, version. */
export const entityLine = (e: Entity) =>
  `${e.id}  [${e.status}]  ${cell(e.title)}${"owner" in e && e.owner ? `  @${cell(e.owner, 40)}` : ""}  v${e.version}`

export const entityLines = (list: ReadonlyArray<Entity>, empty: string) =>
  list.length === 0 ? empty : list.map(entityLine).join("\n")

export const entityDetail = (e: Entity) =>
  [
    `${e.kind} ${e.id}  v${e.version}`,
    `  title:       ${safe(e.title)}`,
    `  status:      ${e.status}`,
    ...("owner" in e ? [`  owner:       ${e.owner === null ? "-" : safe(e.owner)}`] : []),
    ...("epicId" in e ? [`  epic:        ${e.epicId}`] : []),
    ...("taskId" in e ? [`  task:        ${e.taskId}`] : []),
    ...(e.description ? [`  description: ${safe(e.description)}`] : [])
  ].join("\n")

export const edgeLine = (d: Pick<Dependency, "source" | "target">) => `${d.source.id} -> ${d.target.id}`

/** A note on one line: when, who (and the actor when another), where, and the text. */
export const noteLine = (n: Note) =>
  `${n.time}  ${cell(n.author, 40)}${n.author === n.actor ? "" : ` (actor ${cell(n.actor, 40)})`} on ${cell(n.branch, 60)} (${cell(n.worktree, 80)}): ${cell(n.text)}`

/** `n word`, with an s unless n is 1. */
export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`
