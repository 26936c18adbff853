/**
 * The shape of grove's command table: plain data the parser, the help and the
 * usage errors read. Nothing here imports Effect, so `--version`, `--help` and
 * a usage error never load the services (see docs/decisions.md, "CLI parser").
 */

export interface FlagSpec {
  readonly name: string
  readonly type: "text" | "integer" | "boolean" | "choice"
  readonly description: string
  /** For `choice`: the accepted values. */
  readonly choices?: ReadonlyArray<string>
  /** The flag may be given several times; its value is the list in order. */
  readonly repeated?: boolean
  readonly required?: boolean
  /** The placeholder shown in help (`--title TEXT`). */
  readonly placeholder?: string
}

export interface ArgSpec {
  readonly name: string
  readonly type: "text" | "integer"
  readonly description: string
  readonly optional?: boolean
  /** A text argument's shape, checked when parsing (a usage error otherwise), and how the error names it. */
  readonly pattern?: { readonly test: RegExp; readonly what: string }
}

export interface CommandSpec {
  /** The words that name the command, e.g. ["sync", "conflicts", "show"]. */
  readonly path: ReadonlyArray<string>
  readonly summary: string
  readonly args?: ReadonlyArray<ArgSpec>
  readonly flags?: ReadonlyArray<FlagSpec>
  /** One line a user can copy; help ends with it. */
  readonly example: string
  /** The module of src/cli/commands whose `handlers` run this command; only that module loads. */
  readonly module: HandlerModule
}

export type HandlerModule = "entities" | "reads" | "task" | "dep" | "bulk" | "pull" | "status" | "sync" | "migrate" | "admin" | "work" | "next" | "session" | "plan" | "board" | "mcp"

export interface GroupSpec {
  readonly path: ReadonlyArray<string>
  readonly summary: string
}

/** What a parsed command line gives a handler: flag and argument values by name. */
export type Value = string | number | boolean | ReadonlyArray<string>

export class Input {
  constructor(readonly values: ReadonlyMap<string, Value>) {}
  text(name: string): string | undefined {
    const v = this.values.get(name)
    return typeof v === "string" ? v : undefined
  }
  /** A value the parser guarantees (a required flag or argument). */
  required(name: string): string {
    const v = this.values.get(name)
    if (typeof v !== "string") throw new Error(`the parser let a command run without ${name}`)
    return v
  }
  integer(name: string): number | undefined {
    const v = this.values.get(name)
    return typeof v === "number" ? v : undefined
  }
  flag(name: string): boolean {
    return this.values.get(name) === true
  }
  list(name: string): ReadonlyArray<string> {
    const v = this.values.get(name)
    return Array.isArray(v) ? v : []
  }
  has(name: string): boolean {
    return this.values.has(name)
  }
}
