import { beforeAll, describe, expect, it } from "bun:test"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { stripAnsi } from "../src/cli/Output.ts"
import { version } from "../src/cli/main.ts"
import { grove, groveAsync, scratch, type TestRepo } from "./support/index.ts"

/** One repository for the whole file; tests that need a fresh database make their own. */
const freshRepo = scratch("all").repo
let shared: TestRepo
beforeAll(() => {
  shared = freshRepo()
  const init = grove(shared.root, ["init", "--json"])
  if (init.exitCode !== 0) throw new Error(`grove init failed: ${init.stdout}${init.stderr}`)
})

describe("grove init", () => {
  it("creates the database and says where it is; a second run is ok with created:false in a JSON envelope", () => {
    const r = freshRepo()
    const expected = r.db
    const first = grove(r.root, ["init"])
    expect(first.exitCode).toBe(0)
    expect(first.stdout).toContain("Initialized")
    expect(first.stdout).toContain(expected)
    expect(NodeFs.existsSync(expected)).toBe(true)
    const second = grove(r.root, ["init", "--json"])
    expect(second.exitCode).toBe(0)
    expect(second.stdout.trim().split("\n")).toHaveLength(1)
    expect(Object.keys(second.json).sort()).toEqual(["command", "data", "meta", "ok"])
    expect(second.json).toEqual({
      ok: true,
      command: "init",
      data: { database: expected, created: false, schemaVersion: expect.any(Number), applied: [] },
      meta: { version, elapsedMs: expect.any(Number) }
    })
    expect(second.json.data.schemaVersion).toBeGreaterThan(0)
  })
})

describe("--json placement", () => {
  it("works before or after the subcommand", async () => {
    // `init --json` (flag last) is covered above and in storage.test.ts.
    const variants = [
      ["--json", "init"],
      ["migrate", "--json", "status"],
      ["--json", "migrate", "status"]
    ]
    const results = await Promise.all(variants.map((args) => groveAsync(shared.root, args)))
    results.forEach((r, i) => {
      const command = variants[i]!.filter((a) => a !== "--json").join(" ")
      expect(r.exitCode).toBe(0)
      expect(r.json).toMatchObject({ ok: true, command })
    })
  })
})

describe("domain errors", () => {
  it("migrate down to a version at or above the current one: error envelope, exit 1", () => {
    const r = grove(shared.root, ["migrate", "down", "--to", "5", "--json"])
    expect(r.exitCode).toBe(1)
    expect(Object.keys(r.json).sort()).toEqual(["command", "error", "ok"])
    expect(r.json).toMatchObject({
      ok: false,
      command: "migrate down",
      error: { code: "migration_target_invalid", message: expect.stringContaining("5"), details: { to: 5 } }
    })
  })

  it("in text mode the error goes to stderr with its code, exit 1", () => {
    const r = grove(shared.root, ["migrate", "down", "--to", "5"])
    expect(r.exitCode).toBe(1)
    expect(r.stdout).toBe("")
    expect(r.stderr).toMatch(/^grove: .*\[migration_target_invalid\]$/m)
  })
})

describe("usage errors", () => {
  const cases: ReadonlyArray<{ readonly name: string; readonly args: ReadonlyArray<string>; readonly token: string }> = [
    { name: "unknown command", args: ["bogus"], token: "bogus" },
    { name: "unknown subcommand", args: ["migrate", "bogus"], token: "bogus" },
    { name: "unknown flag", args: ["init", "--bogus"], token: "--bogus" },
    { name: "unknown flag on a command group", args: ["migrate", "--bogus"], token: "--bogus" },
    { name: "missing required option", args: ["migrate", "down"], token: "--to" },
    { name: "option without its value", args: ["migrate", "backup", "--retain"], token: "--retain" },
    { name: "malformed option value", args: ["migrate", "down", "--to", "abc"], token: "abc" },
    { name: "extra positional", args: ["init", "extra"], token: "extra" },
    { name: "extra positional on a subcommand", args: ["migrate", "status", "surplus"], token: "surplus" }
  ]
  /** A repository without a database: usage errors must not create one. */
  let untouched: TestRepo
  beforeAll(() => {
    untouched = freshRepo()
  })

  for (const c of cases) {
    it(`${c.name} (grove ${c.args.join(" ")}) exits 2 with code usage naming '${c.token}'`, () => {
      const r = grove(untouched.root, [...c.args, "--json"])
      expect(r.exitCode).toBe(2)
      expect(r.json).toMatchObject({ ok: false, error: { code: "usage", message: expect.stringContaining(c.token) } })
      expect(NodeFs.existsSync(NodePath.join(untouched.root, ".git", "grove"))).toBe(false)
    })
  }

  it("the envelope's command is the real command words given, not the bad tokens", async () => {
    const named = await Promise.all([
      ["bogus"],
      ["task", "bogus"],
      ["task", "list", "extra"],
      ["migrate", "down"],
      ["sync", "conflicts", "show", "x"]
    ].map((args) => groveAsync(untouched.root, [...args, "--json"])))
    expect(named.map((r) => [r.exitCode, r.json.command])).toEqual([
      [2, "grove"],
      [2, "task"],
      [2, "task list"],
      [2, "migrate down"],
      [2, "sync conflicts show"]
    ])
  })

  it("bare `grove --json` is a usage error envelope, not help text", () => {
    const r = grove(untouched.root, ["--json"])
    expect(r.exitCode).toBe(2)
    expect(r.json).toMatchObject({ ok: false, command: "grove", error: { code: "usage" } })
  })

  it("in text mode the message goes to stderr and names the token", async () => {
    const [unknown, nested] = await Promise.all([
      groveAsync(untouched.root, ["bogus"]),
      groveAsync(untouched.root, ["migrate", "nope"])
    ])
    expect(unknown.exitCode).toBe(2)
    expect(unknown.stdout).toBe("")
    expect(unknown.stderr).toContain("'bogus'")
    expect(nested.exitCode).toBe(2)
    expect(nested.stderr).toMatch(/^grove: .*'nope'.*\[usage\]$/m)
  })
})

describe("--help", () => {
  /** Every command and subcommand; add new ones here. */
  const commands: ReadonlyArray<ReadonlyArray<string>> = [
    [],
    ["init"],
    ["migrate"],
    ["migrate", "status"],
    ["migrate", "up"],
    ["migrate", "down"],
    ["migrate", "backup"]
  ]

  it("works on every command and subcommand", async () => {
    const results = await Promise.all(commands.map((words) => groveAsync(shared.root, [...words, "--help"])))
    results.forEach((r, i) => {
      const words = commands[i]!
      const label = ["grove", ...words].join(" ")
      const out = stripAnsi(r.stdout)
      expect({ label, exitCode: r.exitCode }).toEqual({ label, exitCode: 0 })
      // The usage line names the command itself, with every word.
      expect(out).toContain(`$ ${["grove", ...words].join(" ")}`)
      expect(out).toContain("USAGE")
    })
    // The top-level help lists every command path.
    const top = stripAnsi(results[0]!.stdout)
    for (const words of commands.slice(1)) expect(top).toContain(`- ${words.join(" ")}`)
  })
})

describe("bin/grove", () => {
  it("runs from any repository through a symlink, with no Bun on PATH, using the Bun npm installed", () => {
    const r = freshRepo()
    const link = NodePath.join(r.base, "grove")
    NodeFs.symlinkSync(NodePath.resolve(import.meta.dir, "../bin/grove"), link)
    const out = Bun.spawnSync([link, "init", "--json"], { cwd: r.root, env: { PATH: "/usr/bin:/bin", HOME: process.env["HOME"] ?? "/tmp" } })
    expect(out.exitCode).toBe(0)
    expect(JSON.parse(out.stdout.toString()).data.database).toBe(r.db)
  })
})
