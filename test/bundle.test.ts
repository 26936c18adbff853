import { afterAll, beforeAll, describe, expect, it } from "bun:test"
import { spawnSync } from "bun"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { startBoard } from "./support/board.ts"
import { childEnv, makeTempDir, removeTempDir, scratch, type TestRepo } from "./support/index.ts"
import { connect } from "./support/mcp.ts"

/**
 * The release build (scripts/build.ts), built into a temp dir and run as a
 * user runs it: a command through the commands bundle, `grove mcp` and `grove
 * board` through their bundles apart, which must run on the commands bundle's
 * Effect and services (one runtime, the same tags), not copies of their own.
 */

const root = NodePath.resolve(import.meta.dir, "..")
let out: string
let entry: string
let repo: TestRepo
const temp = scratch("all")

beforeAll(() => {
  out = makeTempDir("bundle")
  const built = spawnSync([process.execPath, NodePath.join(root, "scripts", "build.ts"), out], { cwd: root, env: childEnv() })
  if (built.exitCode !== 0) throw new Error(`the build failed: ${built.stderr.toString()}`)
  entry = NodePath.join(out, "grove.js")
  repo = temp.repo()
}, 120_000)
afterAll(() => removeTempDir(out))

const run = (args: ReadonlyArray<string>) => {
  const r = spawnSync([process.execPath, entry, ...args, "--json"], { cwd: repo.root, env: childEnv({ GROVE_ACTOR: "bundle@example.com" }) })
  return JSON.parse(r.stdout.toString() || "null") as any
}

describe("the release bundles", () => {
  it("keep the MCP SDK and the board out of the commands bundle", () => {
    const files = NodeFs.readdirSync(out)
    expect(files).toEqual(expect.arrayContaining(["grove.js", "grove-commands.js", "grove-mcp.js", "grove-board.js"]))
    const commands = NodeFs.readFileSync(NodePath.join(out, "grove-commands.js"), "utf8")
    expect(commands.includes("modelcontextprotocol")).toBe(false)
    expect(commands.includes("Object.freeze({status:\"aborted\"})")).toBe(false)
  })

  it("run a write and a read through the commands bundle", () => {
    const epic = run(["epic", "create", "--title", "bundled"])
    expect(epic).toMatchObject({ ok: true, data: { title: "bundled" } })
    const task = run(["task", "create", "--epic", epic.data.id, "--title", "from the bundle"])
    expect(run(["task", "show", task.data.id])).toMatchObject({ ok: true, data: { id: task.data.id, title: "from the bundle", children: [] } })
  })

  it("serve grove mcp from its own bundle over the commands bundle's services", async () => {
    const session = await connect(repo.root, { entry, env: { GROVE_ACTOR: "bundle@example.com" } })
    try {
      const epic = run(["epic", "create", "--title", "for mcp"])
      const created = await session.data("task_create", { parent: epic.data.id, title: "through mcp" })
      expect(await session.data("task_show", { id: created.id })).toMatchObject({ id: created.id, title: "through mcp", kind: "task" })
    } finally {
      await session.close()
    }
  }, 60_000)

  it("serve grove board from its own bundle over the commands bundle's services", async () => {
    const board = await startBoard(repo.root, childEnv({ GROVE_ACTOR: "bundle@example.com" }), [], entry)
    try {
      const r = await fetch(`${board.origin}/api/board`, { headers: { cookie: `grove_board_${board.port}=${board.token}` } })
      expect(r.status).toBe(200)
      const body = (await r.json()) as any
      expect(JSON.stringify(body)).toContain("from the bundle")
    } finally {
      await board.stop()
    }
  }, 60_000)
})
