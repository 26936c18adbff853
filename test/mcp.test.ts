/**
 * `grove mcp` (issue 17) as an agent reaches it: the SDK's own Client over
 * StdioClientTransport spawns the server in real linked worktrees of a real
 * repository, and the database file is read directly to check what was written.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test"
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js"
import { grove } from "./support/cli.ts"
import { connect, type McpSession } from "./support/mcp.ts"
import { eventsAfter, isolateEnv, lastSeq, makeRepo, type TestRepo } from "./support/index.ts"

const slow = 60_000

let repo: TestRepo
let root: string
let wtA: string
let wtB: string
let a: McpSession

isolateEnv()
beforeAll(async () => {
  repo = makeRepo("mcp")
  root = repo.root
  wtA = repo.addWorktree("agent-a")
  wtB = repo.addWorktree("agent-b")
  expect(grove(root, ["init"]).exitCode).toBe(0)
  a = await connect(wtA, { name: "agent-a-client" })
}, slow)

afterAll(async () => {
  await a?.close()
  repo.cleanup()
})

const epicWith = async (s: McpSession, titles: ReadonlyArray<string>) => {
  const plan = { plan: `plan ${titles.join(",")}`, epic: { key: "e", title: `epic ${titles.join(",")}` }, tasks: titles.map((title, i) => ({ key: `t${i}`, title })) }
  const applied = await s.data("plan_apply", { plan })
  return { epic: applied.epic as string, tasks: applied.keys as Record<string, string> }
}

describe("grove mcp", () => {
  it("lists every loop tool with a JSON Schema generated from its Effect Schema, and the resources", async () => {
    const { tools } = await a.client.listTools()
    expect(tools.map((t) => t.name).sort()).toEqual([
      "conflict_show", "conflicts_list", "dep_add", "epic_progress", "next", "plan_apply", "ready", "resolve", "session",
      "sync_pull", "sync_status", "task_claim", "task_create", "task_done", "task_note", "task_release", "task_show", "task_update"
    ])
    const update = tools.find((t) => t.name === "task_update")!
    expect(update.inputSchema.required).toEqual(["id"])
    expect((update.inputSchema.properties as any).status.enum).toEqual(["todo", "in_progress", "done", "blocked"])
    const { resources } = await a.client.listResources()
    expect(resources.map((r) => r.uri).sort()).toEqual(["grove://conflicts", "grove://epics"])
    const { resourceTemplates } = await a.client.listResourceTemplates()
    expect(resourceTemplates.map((r) => r.uriTemplate)).toEqual(["grove://task/{id}"])
  }, slow)

  it("runs the loop: next with claim, note, done; events stamped with the server's worktree and the client's name", async () => {
    const { epic, tasks } = await epicWith(a, ["only"])
    const before = lastSeq(repo.db)
    const picked = await a.data("next", { epic, claim: true })
    expect({ id: picked.task?.id, claimed: picked.claimed, owner: picked.task?.owner }).toEqual({ id: tasks["t0"], claimed: true, owner: "agent-a-client" })
    const note = await a.data("task_note", { id: tasks["t0"], text: "found the cause" })
    expect(note.text).toBe("found the cause")
    const done = await a.data("task_done", { id: tasks["t0"] })
    expect({ status: done.entity.status, changed: done.changed, next: done.next }).toEqual({ status: "done", changed: true, next: null })
    const written = eventsAfter(repo.db, before)
    expect(written.length).toBeGreaterThan(0)
    expect(new Set(written.map((e) => `${e.worktree} ${e.stream} ${e.actor}`))).toEqual(new Set([`${wtA} agent-a agent-a-client`]))
    // The resources read the same state.
    const read = await a.client.readResource({ uri: `grove://task/${tasks["t0"]}` })
    const shown = JSON.parse((read.contents[0] as { text: string }).text)
    expect({ status: shown.status, notes: shown.notes.map((n: any) => n.text) }).toEqual({ status: "done", notes: ["found the cause"] })
    const progress = await a.data("epic_progress", { id: epic })
    expect({ done: progress.done, total: progress.total }).toEqual({ done: 1, total: 1 })
  }, slow)

  it("task_update with a stale ifVersion answers version_mismatch and writes nothing", async () => {
    const { tasks } = await epicWith(a, ["versioned"])
    const shown = await a.data("task_show", { id: tasks["t0"] })
    await a.data("task_update", { id: tasks["t0"], title: "renamed", ifVersion: shown.version })
    const before = lastSeq(repo.db)
    const stale = await a.call("task_update", { id: tasks["t0"], title: "lost update", ifVersion: shown.version })
    expect({ ok: stale.ok, code: stale.error?.code }).toEqual({ ok: false, code: "version_mismatch" })
    expect(lastSeq(repo.db)).toBe(before)
    expect((await a.data("task_show", { id: tasks["t0"] })).title).toBe("renamed")
  }, slow)

  it("a bad argument is a clear invalid_input naming the field, and nothing is written", async () => {
    const { tasks } = await epicWith(a, ["untouched"])
    const before = lastSeq(repo.db)
    const cases = [
      { name: "task_update", args: { id: tasks["t0"], status: "finished" }, field: "status" },
      { name: "task_update", args: { id: tasks["t0"], ifVersion: "three" }, field: "ifVersion" },
      { name: "task_create", args: { parent: "x", title: "   " }, field: "title" },
      { name: "task_note", args: { id: tasks["t0"], text: "x", colour: "red" }, field: "colour" }
    ]
    for (const c of cases) {
      const r = await a.call(c.name, c.args)
      expect({ case: c, ok: r.ok, code: r.error?.code, namesField: r.error?.message.includes(c.field) }).toEqual({ case: c, ok: false, code: "invalid_input", namesField: true })
    }
    const unknown = await a.call("task_explode", {})
    expect(unknown.error?.code).toBe("unknown_tool")
    expect(lastSeq(repo.db)).toBe(before)
  }, slow)

  it("two servers in two worktrees racing next with claim on one ready task: exactly one wins", async () => {
    const b = await connect(wtB, { name: "agent-b-client" })
    try {
      const { epic, tasks } = await epicWith(a, ["contested"])
      const [ra, rb] = await Promise.all([a.call("next", { epic, claim: true }), b.call("next", { epic, claim: true })])
      const winners = [ra, rb].filter((r) => r.ok && r.data.task?.id === tasks["t0"] && r.data.claimed)
      expect({ winners: winners.length, answers: [ra, rb].length }).toEqual({ winners: 1, answers: 2 })
      const loser = winners[0] === ra ? rb : ra
      // The loser either lost the claim or found nothing ready: it never holds the task.
      expect(loser.ok ? loser.data.task : loser.error.code).toEqual(loser.ok ? null : "claim_lost")
      const claimedBy = eventsAfter(repo.db).filter((e) => e.op === "task.claimed" && e.entity_id === tasks["t0"])
      expect(claimedBy.length).toBe(1)
    } finally {
      await b.close()
    }
  }, slow)

  it("tells a subscribed client when another process writes to the database", async () => {
    const updated = new Promise<string>((resolve) =>
      a.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => resolve(n.params.uri)))
    await a.client.subscribeResource({ uri: "grove://epics" })
    expect(grove(wtB, ["epic", "create", "--title", "from the CLI"]).exitCode).toBe(0)
    expect(await updated).toBe("grove://epics")
  }, slow)
})
