import type { CommandSpec, FlagSpec, Value } from "./spec.ts"
import { commands, description, globalFlags, groups } from "./table.ts"
import { suggest } from "../errors/suggest.ts"

/** How this invocation prints (docs/cli.md, "Output modes"). */
export type Format = "text" | "json" | "toon" | "compact"

/** A node of the command tree: the top, a group (`task`, `sync conflicts`) or a command. */
export interface Node {
  readonly path: ReadonlyArray<string>
  readonly summary: string
  readonly children: Map<string, Node>
  readonly command?: CommandSpec
}

const tree: Node = (() => {
  const top: Node = { path: [], summary: description, children: new Map() }
  const at = (path: ReadonlyArray<string>): Node => {
    let node = top
    for (const word of path) {
      let next = node.children.get(word)
      if (next === undefined) {
        next = { path: [...node.path, word], summary: "", children: new Map() }
        node.children.set(word, next)
      }
      node = next
    }
    return node
  }
  // Commands first, so every listing follows the table's order; then the groups' summaries.
  for (const c of commands) Object.assign(at(c.path), { summary: c.summary, command: c })
  for (const g of groups) Object.assign(at(g.path), { summary: g.summary })
  return top
})()

export const root = tree

export interface UsageError {
  readonly message: string
  /** The command words that were real (the envelope's `command`). */
  readonly node: Node
}

export type Parsed =
  | { readonly _tag: "Version"; readonly format: Format }
  | { readonly _tag: "Help"; readonly format: Format; readonly node: Node }
  | { readonly _tag: "Usage"; readonly format: Format; readonly error: UsageError; readonly argv: ReadonlyArray<string> }
  | { readonly _tag: "Run"; readonly format: Format; readonly command: CommandSpec; readonly values: Map<string, Value> }

const globalNames = new Set(["json", "toon", "compact", "help", "version"])
const formats: ReadonlyArray<Format> = ["json", "toon", "compact"]

const words = (node: Node) => ["grove", ...node.path].join(" ")
const helpHint = (node: Node) => ` (see ${words(node)} --help)`

/**
 * Parses `grove`'s arguments against the command table. Pure: it reads
 * nothing and loads no command module, so usage errors and help are fast and
 * never touch the database.
 */
export const parse = (argv: ReadonlyArray<string>): Parsed => {
  const end = argv.indexOf("--")
  const head = end === -1 ? argv : argv.slice(0, end)
  const tail = end === -1 ? [] : argv.slice(end + 1)
  // Output and help flags may stand anywhere before `--`.
  const given = new Set(head.filter((a) => a.startsWith("--") && globalNames.has(a.slice(2))).map((a) => a.slice(2)))
  if (head.includes("-h")) given.add("help")
  const chosen = formats.filter((f) => given.has(f))
  const format: Format = chosen[0] ?? "text"
  const rest = head.filter((a) => a === "-h" ? false : !(a.startsWith("--") && globalNames.has(a.slice(2))))
  const usage = (message: string, node: Node): Parsed => ({ _tag: "Usage", format, error: { message: message + helpHint(node), node }, argv })
  if (chosen.length > 1) return usage(`choose one output mode: ${chosen.map((f) => `--${f}`).join(" or ")}`, tree)

  // Walk the command words.
  let node = tree
  let i = 0
  while (node.command === undefined && i < rest.length) {
    const word = rest[i]!
    if (word.startsWith("-")) break
    const next = node.children.get(word)
    if (next === undefined) {
      const guess = suggest(word, node.children.keys())
      const where = node === tree ? "" : ` for ${words(node)}`
      return usage(`unknown command '${word}'${where}${guess ? ` (did you mean '${guess}'?)` : ` (commands: ${[...node.children.keys()].join(", ")})`}`, node)
    }
    node = next
    i++
  }
  if (given.has("help")) return { _tag: "Help", format, node }
  if (node.command === undefined) {
    if (given.has("version") && node === tree && rest.length === 0) return { _tag: "Version", format }
    const word = rest[i]
    if (word !== undefined) {
      const name = word.split("=")[0]!
      const guess = node === tree ? suggest(name.replace(/^--?/, ""), ["version"]) : undefined
      return usage(`unknown option ${name}${guess ? ` (did you mean --${guess}?)` : ""}: ${words(node)} needs a command first`, node)
    }
    // `grove` alone prints help to a person; a script asking for JSON gets a usage error instead.
    if (node === tree && format === "text") return { _tag: "Help", format, node }
    return usage(`${words(node)} needs a command: ${[...node.children.keys()].join(", ")}`, node)
  }
  if (given.has("version")) return usage("unknown option --version: only grove --version prints the version", node)
  const parsed = parseCommand(node.command, rest.slice(i), tail)
  return typeof parsed === "string" ? usage(parsed, node) : { _tag: "Run", format, command: node.command, values: parsed }
}

/** A command's flags and arguments, or the message of the first usage error. */
const parseCommand = (command: CommandSpec, tokens: ReadonlyArray<string>, tail: ReadonlyArray<string>): Map<string, Value> | string => {
  const flags = new Map((command.flags ?? []).map((f) => [f.name, f]))
  const values = new Map<string, Value>()
  const positionals: Array<string> = []
  const convert = (flag: FlagSpec, raw: string): Value | { error: string } => {
    if (flag.type === "integer") return /^-?\d+$/.test(raw) ? Number(raw) : { error: `--${flag.name} takes an integer, got '${raw}'` }
    if (flag.type === "choice" && !flag.choices!.includes(raw)) {
      return { error: `--${flag.name} takes one of ${flag.choices!.join(", ")}, got '${raw}'` }
    }
    return raw
  }
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!
    if (!token.startsWith("-") || token === "-" || /^-\d/.test(token)) {
      positionals.push(token)
      continue
    }
    const eq = token.indexOf("=")
    const name = (eq === -1 ? token : token.slice(0, eq)).replace(/^--?/, "")
    const flag = token.startsWith("--") ? flags.get(name) : undefined
    if (flag === undefined) {
      const guess = suggest(name, [...flags.keys(), ...globalFlags.map((f) => f.name)])
      return `unknown option ${eq === -1 ? token : token.slice(0, eq)}${guess ? ` (did you mean --${guess}?)` : ""}`
    }
    if (values.has(flag.name) && !flag.repeated) return `--${flag.name} is given more than once`
    if (flag.type === "boolean") {
      if (eq !== -1) return `--${flag.name} takes no value, got '${token.slice(eq + 1)}'`
      values.set(flag.name, true)
      continue
    }
    let raw: string
    if (eq !== -1) raw = token.slice(eq + 1)
    else {
      const next = tokens[i + 1]
      if (next === undefined) return `--${flag.name} needs a value${flag.placeholder ? ` (${flag.placeholder})` : ""}`
      raw = next
      i++
    }
    const value = convert(flag, raw)
    if (typeof value === "object" && "error" in value) return value.error
    values.set(flag.name, flag.repeated ? [...((values.get(flag.name) as ReadonlyArray<string> | undefined) ?? []), raw] : value)
  }
  positionals.push(...tail)
  const args = command.args ?? []
  for (const [k, spec] of args.entries()) {
    const raw = positionals[k]
    if (raw === undefined) {
      if (spec.optional) continue
      return `missing argument <${spec.name}>`
    }
    if (spec.type === "integer" && !/^-?\d+$/.test(raw)) return `<${spec.name}> must be an integer, got '${raw}'`
    if (spec.pattern !== undefined && !spec.pattern.test.test(raw)) return `<${spec.name}> must be ${spec.pattern.what}, got '${raw}'`
    values.set(spec.name, spec.type === "integer" ? Number(raw) : raw)
  }
  if (positionals.length > args.length) return `unexpected argument '${positionals[args.length]}'`
  for (const flag of command.flags ?? []) {
    if (flag.required && !values.has(flag.name)) return `missing required option --${flag.name}${flag.placeholder ? ` ${flag.placeholder}` : ""}`
  }
  return values
}
