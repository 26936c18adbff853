/**
 * Builds the release bundles bin/grove runs (npm run build, also at install):
 *
 * - dist/grove.js: the command table, parser, help and output. It answers
 *   --version, --help and usage errors alone and never loads Effect.
 * - dist/grove-commands.js: src/cli/commands/index.ts (every handler, the
 *   services, Effect), loaded only when a command runs. Inside it each handler
 *   module is still evaluated only when its command is invoked.
 *
 * Both are CommonJS with Bun's bytecode beside them (`.jsc`): the engine skips
 * parsing, which roughly halves a cold start (figures in benchmarks/README.md).
 * Bun writes ESM bytecode only for single-file executables, hence CommonJS.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"

const root = NodePath.resolve(import.meta.dir, "..")
const outdir = NodePath.join(root, "dist")
NodeFs.rmSync(outdir, { recursive: true, force: true })

const build = async (entry: string, name: string, plugins: Array<Bun.BunPlugin> = []) => {
  const result = await Bun.build({
    entrypoints: [NodePath.join(root, entry)],
    outdir,
    naming: `${name}.[ext]`,
    target: "bun",
    format: "cjs",
    bytecode: true,
    minify: { syntax: true, whitespace: true },
    plugins
  })
  if (!result.success) {
    for (const log of result.logs) console.error(log)
    process.exit(1)
  }
}

// In the first bundle the door to the handlers stays a runtime import of the second file.
const commandsExternal: Bun.BunPlugin = {
  name: "grove-commands-external",
  setup: (b) => b.onResolve({ filter: /^\.\/commands\/index\.ts$/ }, () => ({ path: "./grove-commands.js", external: true }))
}

/**
 * effect's logger module reads `process.stdout.isTTY` when it is evaluated (for the colours of its pretty
 * logger, which grove never installs). In Bun the first touch of `process.stdout` builds the stream and its
 * modules: about as much CPU as a whole bare `bun -e 0` (docs/decisions.md, "Start-up"). The bundle asks the
 * same question of the terminal without building the stream. The build fails if the code it replaces moved.
 */
const loggerWithoutStdout: Bun.BunPlugin = {
  name: "effect-logger-without-stdout",
  setup: (b) =>
    b.onLoad({ filter: /node_modules\/effect\/dist\/esm\/internal\/logger\.js$/ }, async ({ path }) => {
      const original = await Bun.file(path).text()
      const replacements: ReadonlyArray<readonly [string, string]> = [
        [
          `const hasProcessStdout = typeof process === "object" && process !== null && typeof process.stdout === "object" && process.stdout !== null;`,
          `const hasProcessStdout = typeof process === "object" && process !== null;`
        ],
        [
          `const processStdoutIsTTY = hasProcessStdout && process.stdout.isTTY === true;`,
          `const processStdoutIsTTY = hasProcessStdout && process.binding("tty_wrap").isTTY(1) === true;`
        ]
      ]
      let contents = original
      for (const [from, to] of replacements) {
        if (!contents.includes(from)) throw new Error(`${path}: expected \`${from}\` (effect changed; revisit the logger plugin in scripts/build.ts)`)
        contents = contents.replace(from, to)
      }
      return { contents, loader: "js" }
    })
}

await build("src/main.ts", "grove", [commandsExternal])
await build("src/cli/commands/index.ts", "grove-commands", [loggerWithoutStdout])

// What bin/grove compares the bundle's age with: every source file, relative to the root.
const sources = [...new Bun.Glob("src/**/*.ts").scanSync({ cwd: root }), "package.json"].sort()
await Bun.write(NodePath.join(outdir, "sources.json"), JSON.stringify(sources))
