/**
 * Builds the release bundles bin/grove runs (npm run build, also at install):
 *
 * - dist/grove.js: the command table, parser, help and output. It answers
 *   --version, --help and usage errors alone and never loads Effect.
 * - dist/grove-commands.js: src/cli/commands/index.ts (every handler, the
 *   services, Effect), loaded only when a command runs. Inside it each handler
 *   module is still evaluated only when its command is invoked.
 * - dist/grove-mcp.js and dist/grove-board.js: `grove mcp` (with the MCP SDK,
 *   ajv and zod) and `grove board`, loaded only by those commands. They hold
 *   their own code and npm packages only: Effect and every other grove module
 *   are the commands bundle's own instances, handed over at run time (one
 *   Effect runtime, one of each service tag), see `apartBundle` below.
 *
 * Both are CommonJS with Bun's bytecode beside them (`.jsc`): the engine skips
 * parsing, which roughly halves a cold start (figures in benchmarks/README.md).
 * Bun writes ESM bytecode only for single-file executables, hence CommonJS.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"

const root = NodePath.resolve(import.meta.dir, "..")
// `bun scripts/build.ts DIR` builds elsewhere (test/bundle.test.ts); npm run build writes dist/.
const outdir = process.argv[2] === undefined ? NodePath.join(root, "dist") : NodePath.resolve(process.argv[2])
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

/** The modules a bundle apart holds itself: its handler module and folders, and npm packages other than Effect's. */
const ownedApart = (path: string) =>
  /\/src\/(mcp|board|agents)\//.test(path) || /\/src\/cli\/commands\/(mcp|board)\.ts$/.test(path) ||
  (path.includes("/node_modules/") && !/\/node_modules\/(effect|@effect\/[^/]+)\//.test(path))

const sharedKey = Symbol.for("grove.shared").description!
const effectBarrel = NodePath.relative(root, Bun.resolveSync("effect", root))
/** The names the bundles apart import from effect's barrel (`import { Effect, Schema } from "effect"`). */
const effectNames = new Map<string, Set<string>>()

/** The runtime exports of one of effect's modules: `export const|function|class` declarations and `export { a as b }` lists. */
const exportsOf = (file: string) => {
  const source = NodeFs.readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "")
  const declared = [...source.matchAll(/^export (?:const|function\*?|class|let) ([A-Za-z_$][\w$]*)/gm)].map((m) => m[1]!)
  const listed = [...source.matchAll(/^export \{([^}]*)\}/gm)].flatMap((m) =>
    m[1]!.split(",").map((n) => n.trim().split(/\s+as\s+/).at(-1)!).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n)))
  return new Set([...declared, ...listed])
}

/**
 * Builds `grove-NAME.js` from src/cli/commands/NAME.ts. Every import of a
 * module it does not own becomes a read of the module the commands bundle
 * registered under its path (globalThis[Symbol.for("grove.shared")]), so both
 * bundles run the same Effect and the same tags. Returns those paths.
 */
const apartBundle = async (name: "mcp" | "board"): Promise<Array<string>> => {
  const shared = new Set<string>()
  const fromCommands: Bun.BunPlugin = {
    name: "grove-shared-from-commands",
    setup: (b) => {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === "entry-point" || /^(node|bun):/.test(args.path) || args.namespace === "grove-shared") return undefined
        const resolved = Bun.resolveSync(args.path, NodePath.dirname(args.importer))
        if (ownedApart(resolved)) return undefined
        const key = NodePath.relative(root, resolved)
        if (key === effectBarrel) {
          const source = NodeFs.readFileSync(args.importer, "utf8")
          // Each name and the members the module reads of it (`Effect.gen`): sharing whole namespaces would keep
          // every export of those effect modules in the commands bundle (no tree shaking).
          for (const m of source.matchAll(/import\s*\{([^}]*)\}\s*from\s*"effect"/g)) {
            for (const name of m[1]!.split(",").map((n) => n.trim()).filter((n) => n !== "" && !n.startsWith("type "))) {
              const members = effectNames.get(name) ?? new Set<string>()
              for (const use of source.matchAll(new RegExp(`\\b${name}\\.([A-Za-z_$][\\w$]*)`, "g"))) members.add(use[1]!)
              effectNames.set(name, members)
            }
          }
        }
        shared.add(key)
        return { path: key, namespace: "grove-shared" }
      })
      b.onLoad({ filter: /.*/, namespace: "grove-shared" }, ({ path }) => ({
        contents: `module.exports = globalThis[Symbol.for(${JSON.stringify(sharedKey)})][${JSON.stringify(path)}]`,
        loader: "js"
      }))
    }
  }
  await build(`src/cli/commands/${name}.ts`, `grove-${name}`, [fromCommands])
  return [...shared].sort()
}

/**
 * In the commands bundle, apart.ts registers the modules a bundle apart
 * shares (each evaluated only then) and requires that bundle; the handler
 * modules behind it stay out of this bundle.
 */
const toApart = (shares: Record<"mcp" | "board", ReadonlyArray<string>>): Bun.BunPlugin => ({
  name: "grove-apart",
  setup: (b) => {
    b.onResolve({ filter: /^\.\/(mcp|board)\.ts$/ }, (args) =>
      args.importer.endsWith("/src/cli/commands/index.ts") ? { path: args.path, external: true } : undefined)
    b.onResolve({ filter: /^\.\/grove-(mcp|board)\.js$/ }, (args) => ({ path: args.path, external: true }))
    b.onResolve({ filter: /^grove-effect-names$/ }, () => ({ path: "names", namespace: "grove-effect-names" }))
    b.onLoad({ filter: /.*/, namespace: "grove-effect-names" }, () => ({
      // Each name of effect's barrel is its module of the same name (`export * as Effect from "./Effect.js"`).
      contents: [...effectNames].sort(([a], [b]) => a.localeCompare(b)).map(([name, members]) => {
        const file = NodePath.join(root, NodePath.dirname(effectBarrel), `${name}.js`)
        const exported = exportsOf(file)
        const used = [...members].filter((m) => exported.has(m)).sort()
        return `import { ${used.map((m) => `${m} as ${name}_${m}`).join(", ")} } from ${JSON.stringify(file)}\nexport const ${name} = { ${used.map((m) => `${m}: ${name}_${m}`).join(", ")} }`
      }).join("\n"),
      loader: "js"
    }))
    b.onResolve({ filter: /^\.\/apart\.ts$/ }, (args) =>
      args.importer.endsWith("/src/cli/commands/index.ts") ? { path: "apart", namespace: "grove-apart" } : undefined)
    b.onLoad({ filter: /.*/, namespace: "grove-apart" }, () => {
      // effect's barrel is shared as the names the bundles apart import from it: importing the whole barrel would
      // bundle every effect module.
      const loaders = (keys: ReadonlyArray<string>) =>
        `[${keys.map((k) => `[${JSON.stringify(k)}, () => import(${JSON.stringify(k === effectBarrel ? "grove-effect-names" : NodePath.join(root, k))})]`).join(", ")}]`
      return {
        contents: `
const shares = { mcp: ${loaders(shares.mcp)}, board: ${loaders(shares.board)} }
export const apart = (name) =>
  Promise.all(shares[name].map(([key, load]) => load().then((module) => [key, module]))).then((entries) => {
    const registry = (globalThis[Symbol.for(${JSON.stringify(sharedKey)})] ??= {})
    for (const [key, module] of entries) registry[key] = module
    return name === "mcp" ? require("./grove-mcp.js") : require("./grove-board.js")
  })
`,
        loader: "js"
      }
    })
  }
})

await build("src/main.ts", "grove", [commandsExternal])
const shares = { mcp: await apartBundle("mcp"), board: await apartBundle("board") }
await build("src/cli/commands/index.ts", "grove-commands", [loggerWithoutStdout, toApart(shares)])

// What bin/grove compares the bundle's age with: every source file, relative to the root.
const sources = [...new Bun.Glob("src/**/*.ts").scanSync({ cwd: root }), "package.json"].sort()
await Bun.write(NodePath.join(outdir, "sources.json"), JSON.stringify(sources))
