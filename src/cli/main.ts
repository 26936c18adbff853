import { printFailure, printSuccess } from "./envelope.ts"
import { helpData, helpText } from "./help.ts"
import { parse } from "./parse.ts"
import { Input } from "./spec.ts"
import { version } from "./table.ts"

export { version }

/**
 * Runs the command line; sets process.exitCode (0 ok, 1 domain error, 2 usage
 * error). Version, help and usage errors are answered from the command table
 * alone; only a command that runs loads its group's module and the services.
 */
export const main = (argv: ReadonlyArray<string>): Promise<void> => {
  const parsed = parse(argv.slice(2))
  switch (parsed._tag) {
    case "Version":
      return Promise.resolve(printSuccess(parsed.format, "grove", { version }, { version }, version))
    case "Help":
      return Promise.resolve(printSuccess(parsed.format, ["grove", ...parsed.node.path].join(" "), helpData(parsed.node), { version }, helpText(parsed.node).trimEnd()))
    case "Usage":
      return Promise.resolve(printFailure(parsed.format, parsed.error.node.path.join(" ") || "grove", {
        code: "usage",
        message: parsed.error.message,
        details: { argv: parsed.argv }
      }))
    case "Run": {
      const { command, format, values } = parsed
      return import("./commands/index.ts").then(({ execute, load }) =>
        load(command.module).then((module) => execute(module.handlers[command.path.join(" ")], new Input(values), format))
      )
    }
  }
}
