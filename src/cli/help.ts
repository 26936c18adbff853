import type { Node } from "./parse.ts"
import type { FlagSpec } from "./spec.ts"
import { globalFlags, topFlags, version } from "./table.ts"

/**
 * Help as plain text: grove never colours its output, so help carries no ANSI
 * escapes on a terminal, in a pipe or with NO_COLOR. Short per command, and
 * every help ends with an example.
 */

const flagUsage = (f: FlagSpec) =>
  f.type === "boolean" ? `--${f.name}` : `--${f.name} ${f.type === "choice" ? f.choices!.join("|") : f.placeholder ?? "TEXT"}`

const table = (rows: ReadonlyArray<readonly [string, string]>) => {
  const width = Math.min(34, Math.max(...rows.map(([left]) => left.length)) + 2)
  return rows.map(([left, right]) => `  ${left.padEnd(width)}${left.length >= width ? `\n  ${" ".repeat(width)}` : ""}${right}`)
}

/** Every command below a node, depth first, in table order. */
const commandsUnder = (node: Node): ReadonlyArray<Node> =>
  [...node.children.values()].flatMap((child) => child.command ? [child] : commandsUnder(child))

const outputFlags = globalFlags.map((f) => [f.name === "help" ? "-h, --help" : flagUsage(f), f.description] as const)

export const helpText = (node: Node): string => {
  const name = ["grove", ...node.path].join(" ")
  const command = node.command
  if (command === undefined) {
    const below = commandsUnder(node)
    const example = below[0]?.command?.example ?? "grove --help"
    return [
      `${name}${node.path.length === 0 ? ` ${version}` : ""} - ${node.summary}`,
      "",
      "USAGE",
      `  $ ${name} <command> [options]`,
      "",
      "COMMANDS",
      ...table(below.map((c) => [`- ${c.path.join(" ")}`, c.command!.summary.split(": ")[0]!.split(". ")[0]!.replace(/\.$/, "")])),
      "",
      "OPTIONS",
      ...table([...outputFlags, ...(node.path.length === 0 ? topFlags.map((f) => [flagUsage(f), f.description] as const) : [])]),
      "",
      "EXAMPLE",
      `  $ ${example}`,
      ""
    ].join("\n")
  }
  const args = command.args ?? []
  const flags = command.flags ?? []
  const argUsage = args.map((a) => a.optional ? `[<${a.name}>]` : `<${a.name}>`)
  const required = flags.filter((f) => f.required).map(flagUsage)
  return [
    `${name} - ${command.summary}`,
    "",
    "USAGE",
    `  $ ${[name, ...argUsage, ...required, ...(flags.some((f) => !f.required) ? ["[options]"] : []), "[--json]"].join(" ")}`,
    ...(args.length ? ["", "ARGUMENTS", ...table(args.map((a) => [`<${a.name}>`, `${a.description}${a.type === "integer" ? " (an integer)" : ""}${a.optional ? " (optional)" : ""}`]))] : []),
    "",
    "OPTIONS",
    ...table([
      ...flags.map((f) => [flagUsage(f), `${f.description}${f.required ? " (required)" : ""}${f.repeated ? " (repeatable)" : ""}`] as const),
      ...outputFlags
    ]),
    "",
    "EXAMPLE",
    `  $ ${command.example}`,
    ""
  ].join("\n")
}

/** The same help as data, for `--help --json`. */
export const helpData = (node: Node) => {
  const command = node.command
  return {
    command: ["grove", ...node.path].join(" "),
    summary: node.summary,
    ...(command === undefined
      ? { commands: commandsUnder(node).map((c) => ({ command: c.path.join(" "), summary: c.command!.summary })) }
      : {
        args: command.args ?? [],
        flags: [...(command.flags ?? []), ...globalFlags],
        example: command.example
      })
  }
}
