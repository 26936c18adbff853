/** The shared test fixtures keep their promises: the neutral environment covers every variable grove reads. */
import { describe, expect, it } from "bun:test"
import { Glob } from "bun"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { childEnv, groveVariables, withEnv } from "./support/index.ts"

const src = NodePath.resolve(import.meta.dir, "..", "src")

describe("the neutral environment", () => {
  it("lists every GROVE_* variable named in src, so no test inherits one from the developer's shell", () => {
    const named = new Set<string>()
    for (const file of new Glob("**/*.ts").scanSync(src)) {
      for (const m of NodeFs.readFileSync(NodePath.join(src, file), "utf8").matchAll(/GROVE_[A-Z_]+/g)) named.add(m[0])
    }
    expect(named.size).toBeGreaterThan(0)
    expect([...named].filter((v) => !(groveVariables as ReadonlyArray<string>).includes(v)).sort()).toEqual([])
  })

  it("a child process gets none of them, and no global git config, even when this process has them set", async () => {
    const set = Object.fromEntries(groveVariables.map((v) => [v, "from the shell"]))
    const env = await withEnv({ ...set, GIT_CONFIG_GLOBAL: "/home/someone/.gitconfig" }, async () => childEnv({ GROVE_ACTOR: "given" }))
    expect(groveVariables.filter((v) => v in env)).toEqual(["GROVE_ACTOR"])
    expect(env["GROVE_ACTOR"]).toBe("given")
    expect(env["GIT_CONFIG_GLOBAL"]).toBe("/dev/null")
    expect(env["GIT_CONFIG_NOSYSTEM"]).toBe("1")
  })
})
