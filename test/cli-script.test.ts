/**
 * The command line as a script or an agent drives it (issue 14): paging,
 * output modes, help, precise usage errors, safe human output, size limits,
 * bulk input, idempotence and exact answers. Every case runs the real CLI in
 * a real repository and, where an error is expected, checks that nothing was
 * written (the event count before and after).
 */
import { beforeAll, describe, expect, it } from "bun:test"
import { decode } from "@toon-format/toon"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { version } from "../src/cli/main.ts"
import { countRows, grove, scratch, withDb } from "./support/index.ts"

const env = { GROVE_ACTOR: "tester" }

const repo = scratch("all").repo()
let epic: string
let tasks: Array<string>

const ok = (args: ReadonlyArray<string>, options: { stdin?: string } = {}) => {
  const r = grove(repo.root, [...args, "--json"], { env, ...options })
  if (r.exitCode !== 0) throw new Error(`grove ${args.join(" ")} exited ${r.exitCode}: ${r.stdout}${r.stderr}`)
  return r.json.data
}
const events = () => countRows(repo.db, "events")
/** Runs a command expected to fail: returns the result, and that no event was written. */
const refused = (args: ReadonlyArray<string>, options: { stdin?: string } = {}) => {
  const before = events()
  const r = grove(repo.root, args, { env, ...options })
  return { ...r, written: events() - before }
}

beforeAll(() => {
  ok(["init"])
  epic = ok(["epic", "create", "--title", "Paging"]).id
  const lines = Array.from({ length: 7 }, (_, i) => JSON.stringify({ title: `task ${i + 1}` })).join("\n")
  tasks = ok(["task", "create-many", "--epic", epic, "--file", "-"], { stdin: lines }).ids
})

describe("paging", () => {
  it("--limit pages in creation order, meta.pagination carries the next cursor and the total, --cursor continues, the last page has next:null", () => {
    const first = grove(repo.root, ["task", "list", "--limit", "3", "--json"], { env })
    expect(first.exitCode).toBe(0)
    expect(first.json.data.map((t: any) => t.id)).toEqual(tasks.slice(0, 3))
    expect(first.json.meta.pagination).toEqual({ limit: 3, returned: 3, total: 7, next: expect.any(String) })
    const second = ok(["task", "list", "--limit", "3", "--cursor", first.json.meta.pagination.next])
    expect(second.map((t: any) => t.id)).toEqual(tasks.slice(3, 6))
    const rest = grove(repo.root, ["task", "list", "--limit", "3", "--cursor", grove(repo.root, ["task", "list", "--limit", "6", "--json"], { env }).json.meta.pagination.next, "--json"], { env })
    expect(rest.json.data.map((t: any) => t.id)).toEqual(tasks.slice(6))
    expect(rest.json.meta.pagination).toEqual({ limit: 3, returned: 1, total: 7, next: null })
  })

  it("the default page is 50 rows, --all returns every row with limit null", () => {
    expect(grove(repo.root, ["task", "list", "--json"], { env }).json.meta.pagination).toEqual({ limit: 50, returned: 7, total: 7, next: null })
    expect(grove(repo.root, ["task", "list", "--all", "--json"], { env }).json.meta.pagination).toEqual({ limit: null, returned: 7, total: 7, next: null })
  })

  it("lists show open items by default; --status takes a comma list; --all-statuses shows done too", () => {
    ok(["task", "done", tasks[0]!])
    ok(["task", "update", tasks[1]!, "--status", "blocked"])
    expect(ok(["task", "list"]).map((t: any) => t.id)).toEqual(tasks.slice(1))
    expect(ok(["task", "list", "--status", "done,blocked"]).map((t: any) => t.id)).toEqual(tasks.slice(0, 2))
    expect(ok(["task", "list", "--all-statuses"]).map((t: any) => t.id)).toEqual(tasks)
  })

  it("text mode ends a page with where the next one starts", () => {
    const r = grove(repo.root, ["task", "list", "--limit", "2"], { env })
    const next = grove(repo.root, ["task", "list", "--limit", "2", "--json"], { env }).json.meta.pagination.next
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe(`(2 of 6; next page: --cursor ${next})`)
  })

  it("a bad cursor, --limit 0, an unknown status and --all with --limit are invalid_input (exit 2), on stdout in JSON mode, stderr clean", () => {
    const cases: Array<[Array<string>, string]> = [
      [["--cursor", "nonsense"], "--cursor nonsense is not a cursor grove gave (meta.pagination.next)"],
      [["--limit", "0"], "--limit must be at least 1, got 0"],
      [["--status", "todo,nope"], '--status takes a comma-separated list of todo, in_progress, done, blocked; got "todo,nope"'],
      [["--all", "--limit", "5"], "--all reads every row: give it without --limit or --cursor"]
    ]
    for (const [flags, message] of cases) {
      const r = refused(["task", "list", ...flags, "--json"])
      expect({ flags, exit: r.exitCode, stderr: r.stderr, error: r.json.error }).toEqual({
        flags,
        exit: 2,
        stderr: "",
        error: { code: "invalid_input", message, details: expect.any(Object) }
      })
    }
  })
})

describe("output modes", () => {
  it("--toon prints the same envelope as TOON", () => {
    const json = grove(repo.root, ["task", "show", tasks[2]!, "--json"], { env }).json
    const toon = grove(repo.root, ["task", "show", tasks[2]!, "--toon"], { env })
    expect(toon.exitCode).toBe(0)
    const decoded = decode(toon.stdout) as any
    expect({ ...decoded, meta: { ...decoded.meta, elapsedMs: 0 } }).toEqual({ ...json, meta: { ...json.meta, elapsedMs: 0 } })
  })

  it("--compact drops meta but keeps pagination", () => {
    const one = grove(repo.root, ["task", "show", tasks[2]!, "--compact"], { env })
    expect(Object.keys(JSON.parse(one.stdout))).toEqual(["ok", "command", "data"])
    const page = JSON.parse(grove(repo.root, ["task", "list", "--limit", "1", "--compact"], { env }).stdout)
    expect(page.meta).toEqual({ pagination: { limit: 1, returned: 1, total: 6, next: expect.any(String) } })
  })

  it("--json is honoured by --version, help, group help and usage errors", () => {
    const v = grove(repo.root, ["--version", "--json"], { env })
    expect(v.json).toEqual({ ok: true, command: "grove", data: { version }, meta: { version } })
    const help = grove(repo.root, ["task", "show", "--help", "--json"], { env })
    expect(help.exitCode).toBe(0)
    expect(help.json.data).toMatchObject({ command: "grove task show", example: `grove task show t-4k2m9x1qpz` })
    const group = grove(repo.root, ["task", "--json"], { env })
    expect(group.exitCode).toBe(2)
    expect(group.stderr).toBe("")
    expect(group.json).toMatchObject({ ok: false, command: "task", error: { code: "usage", message: expect.stringContaining("grove task needs a command: create, show, list") } })
  })

  it("two output modes at once are a usage error", () => {
    const r = refused(["task", "list", "--json", "--toon"])
    expect(r.exitCode).toBe(2)
    expect(r.json.error.message).toBe("choose one output mode: --json or --toon (see grove --help)")
  })
})

describe("help", () => {
  it("has no ANSI escapes, with NO_COLOR or not, shows --json, and per-command help ends with an example", () => {
    for (const noColor of ["1", undefined]) {
      for (const words of [[], ["task"], ["task", "create"], ["sync", "conflicts", "show"]]) {
        const r = grove(repo.root, [...words, "--help"], { env: { ...env, NO_COLOR: noColor } })
        expect({ words, exit: r.exitCode, ansi: r.stdout.includes("\u001b") }).toEqual({ words, exit: 0, ansi: false })
        expect(r.stdout).toContain("--json")
        const lines = r.stdout.trimEnd().split("\n")
        expect(lines.at(-2)).toBe("EXAMPLE")
        expect(lines.at(-1)).toStartWith("  $ grove ")
      }
    }
  })

  it("per-command help is short: usage, arguments, options, example", () => {
    const r = grove(repo.root, ["task", "claim", "--help"], { env })
    expect(r.stdout).toBe(
      [
        "grove task claim - Atomically claim a task: of racing claimers exactly one wins; the others exit 1 with claim_lost and the owner. An expired lease can be taken over.",
        "",
        "USAGE",
        "  $ grove task claim <id> [options] [--json]",
        "",
        "ARGUMENTS",
        "  <id>  the task's id",
        "",
        "OPTIONS",
        "  --owner NAME      who acts (default: GROVE_ACTOR, else git user.email)",
        "  --lease DURATION  lease length (30m, 90s, 2h): then others may take the claim over",
        "  --if-version N    refuse (version_mismatch) unless the entity is still at version N",
        "  --json            print one JSON envelope {ok, command, data, meta} (errors too, on stdout)",
        "  --toon            print the same envelope as TOON (fewer tokens than JSON)",
        "  --compact         print the envelope as one JSON line without meta",
        "  -h, --help        show this help",
        "",
        "EXAMPLE",
        "  $ grove task claim t-4k2m9x1qpz --owner agent-1 --lease 30m",
        ""
      ].join("\n")
    )
  })

  it("the top-level help lists sync's commands once, never `sync sync`", () => {
    const top = grove(repo.root, ["--help"], { env }).stdout
    expect(top).toContain("- sync status")
    expect(top).not.toContain("sync sync")
  })
})

describe("usage errors", () => {
  const cases: Array<{ args: Array<string>; command: string; message: string }> = [
    { args: ["task", "create", "--epic", "e-x", "--title", "t", "--desc", "x"], command: "task create", message: "unknown option --desc (did you mean --description?) (see grove task create --help)" },
    { args: ["task", "update", "t-x", "--title", "a", "--title", "b"], command: "task update", message: "--title is given more than once (see grove task update --help)" },
    { args: ["tsk", "list"], command: "grove", message: "unknown command 'tsk' (did you mean 'task'?) (see grove --help)" },
    { args: ["task", "lst"], command: "task", message: "unknown command 'lst' for grove task (did you mean 'list'?) (see grove task --help)" },
    { args: ["task", "create", "--title", "t"], command: "task create", message: "missing required option --epic ID (see grove task create --help)" },
    { args: ["task", "show"], command: "task show", message: "missing argument <id> (see grove task show --help)" },
    { args: ["task", "update", "t-x", "--status", "finished"], command: "task update", message: "--status takes one of todo, in_progress, done, blocked, got 'finished' (see grove task update --help)" },
    { args: ["sync", "conflicts", "show", "x"], command: "sync conflicts show", message: "<id> must be a conflict id (N or iN), got 'x' (see grove sync conflicts show --help)" }
  ]
  for (const c of cases) {
    it(`grove ${c.args.join(" ")}: one message, exit 2, nothing written`, () => {
      const text = refused(c.args)
      expect({ exit: text.exitCode, stdout: text.stdout, stderr: text.stderr, written: text.written }).toEqual({
        exit: 2,
        stdout: "",
        stderr: `grove: ${c.message} [usage]\n`,
        written: 0
      })
      const json = refused([...c.args, "--json"])
      expect({ exit: json.exitCode, stderr: json.stderr, lines: json.stdout.trimEnd().split("\n").length, written: json.written }).toEqual({ exit: 2, stderr: "", lines: 1, written: 0 })
      expect(json.json).toEqual({ ok: false, command: c.command, error: { code: "usage", message: c.message, details: { argv: [...c.args, "--json"] } } })
    })
  }
})

describe("human output is safe", () => {
  it("control characters and ANSI sequences from data are escaped; list lines cut long titles, show prints them whole", () => {
    const title = `red \u001b[31mALERT\u001b[0m bell\u0007 ${"x".repeat(120)}`
    const id = ok(["task", "create", "--epic", epic, "--title", title]).id
    const list = grove(repo.root, ["task", "list", "--all-statuses", "--all"], { env }).stdout
    const line = list.split("\n").find((l) => l.startsWith(id))!
    expect(line).toBe(`${id}  [todo]  ${`red \\u001b[31mALERT\\u001b[0m bell\\u0007 ${"x".repeat(120)}`.slice(0, 79)}…  v1`)
    const show = grove(repo.root, ["task", "show", id], { env }).stdout
    expect(show).toContain(`  title:       red \\u001b[31mALERT\\u001b[0m bell\\u0007 ${"x".repeat(120)}\n`)
    expect(list.includes("\u001b") || show.includes("\u001b")).toBe(false)
    ok(["task", "delete", id])
  })
})

describe("size limits", () => {
  it("a title over 500 characters or a description over 50,000 is invalid_input, nothing written", () => {
    const long = refused(["task", "create", "--epic", epic, "--title", "x".repeat(501), "--json"])
    expect({ exit: long.exitCode, error: long.json.error, written: long.written }).toEqual({
      exit: 2,
      error: { code: "invalid_input", message: "--title: title is 501 characters; at most 500 are allowed", details: { flag: "title", limit: 500 } },
      written: 0
    })
    const desc = refused(["task", "update", tasks[2]!, "--description", "d".repeat(50_001), "--json"])
    expect({ exit: desc.exitCode, code: desc.json.error.code, written: desc.written }).toEqual({ exit: 2, code: "invalid_input", written: 0 })
  })
})

describe("bulk input", () => {
  it("an unknown key is an error naming its line in user words, never silently dropped", () => {
    const input = [JSON.stringify({ title: "fine" }), JSON.stringify({ title: "typo", descripton: "lost?" })].join("\n")
    const r = refused(["task", "create-many", "--epic", epic, "--file", "-", "--json"], { stdin: input })
    expect({ exit: r.exitCode, error: r.json.error, written: r.written }).toEqual({
      exit: 1,
      error: {
        code: "bulk_input_invalid",
        message: 'line 2: unknown key "descripton" (did you mean "description"?); allowed keys: title, description, owner, parent; the whole batch was rejected, nothing was written',
        details: { line: 2, reason: 'unknown key "descripton" (did you mean "description"?); allowed keys: title, description, owner, parent' }
      },
      written: 0
    })
  })

  it("a line over a size limit names its line", () => {
    const r = refused(["task", "create-many", "--epic", epic, "--file", "-", "--json"], { stdin: JSON.stringify({ title: "t".repeat(501) }) })
    expect({ exit: r.exitCode, message: r.json.error.message, written: r.written }).toEqual({
      exit: 1,
      message: "line 1: title is 501 characters; at most 500 are allowed; the whole batch was rejected, nothing was written",
      written: 0
    })
  })

  it("create-many returns the created ids in input order", () => {
    const titles = ["first", "second", "third"]
    const created = ok(["task", "create-many", "--epic", epic, ...titles.flatMap((t) => ["--title", t])])
    const shown = created.ids.map((id: string) => ok(["task", "show", id]).title)
    expect(shown).toEqual(titles)
    for (const id of created.ids) ok(["task", "delete", id])
  })
})

describe("idempotent dependencies", () => {
  it("dep add of an existing edge succeeds with changed:false and writes nothing; dep add-many skips and reports existing edges", () => {
    const [a, b, c] = [tasks[3]!, tasks[4]!, tasks[5]!]
    expect(ok(["dep", "add", a, b])).toEqual({ source: { kind: "task", id: a }, target: { kind: "task", id: b }, changed: true, reopened: false })
    const before = events()
    const again = grove(repo.root, ["dep", "add", a, b], { env })
    expect({ exit: again.exitCode, stdout: again.stdout, written: events() - before }).toEqual({ exit: 0, stdout: `Unchanged: ${a} -> ${b} already exists\n`, written: 0 })
    expect(ok(["dep", "add-many", "--edge", `${a}:${b}`, "--edge", `${a}:${c}`])).toEqual({ added: 1, skipped: [{ line: 1, source: a, target: b }] })
  })
})

describe("exact answers", () => {
  it("task ready --epic of an unknown epic is not_found, not an empty list", () => {
    const r = refused(["task", "ready", "--epic", "e-nope", "--json"])
    expect({ exit: r.exitCode, error: r.json.error }).toEqual({ exit: 1, error: { code: "not_found", message: "no epic with id e-nope", details: { kind: "epic", id: "e-nope" } } })
  })

  it("sync resolve 999 and sync conflicts show 999 answer with the same code", () => {
    const resolve = refused(["sync", "resolve", "999", "--use", "ours", "--json"])
    const show = refused(["sync", "conflicts", "show", "999", "--json"])
    expect([resolve.exitCode, resolve.json.error.code, resolve.written]).toEqual([1, "not_found", 0])
    expect([show.exitCode, show.json.error.code]).toEqual([1, "not_found"])
  })

  it("sync watch --once exits non-zero when its tick failed, after printing the tick line", () => {
    const r = refused(["sync", "watch", "--once", "--from", "no-such-branch", "--json"])
    const [tick, envelope] = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l))
    expect(tick.pulls).toEqual([{ from: "no-such-branch", error: expect.objectContaining({ code: "unknown_source" }) }])
    expect({ exit: r.exitCode, code: envelope.error.code, cause: envelope.error.details.error.code, written: r.written }).toEqual({
      exit: 1,
      code: "watch_tick_failed",
      cause: "unknown_source",
      written: 0
    })
  })

  it("an epic with open tasks is not marked done unless --force", () => {
    const open = ok(["task", "list", "--epic", epic, "--all"]).length
    expect(open).toBeGreaterThan(0)
    const r = refused(["epic", "update", epic, "--status", "done", "--json"])
    expect({ exit: r.exitCode, code: r.json.error.code, open: r.json.error.details.open, written: r.written }).toEqual({
      exit: 1,
      code: "epic_has_open_tasks",
      open,
      written: 0
    })
    const other = ok(["epic", "create", "--title", "forced"]).id
    ok(["task", "create", "--epic", other, "--title", "open one"])
    expect(ok(["epic", "update", other, "--status", "in_progress"]).changed).toBe(true)
    expect(ok(["epic", "update", other, "--status", "done", "--force"]).entity.status).toBe("done")
  })

  it("sync resolve --all --dry-run prints an apply command that carries its filters", () => {
    // With no conflicts the preview is empty; the hint must still repeat --field.
    const r = grove(repo.root, ["sync", "resolve", "--all", "--use", "theirs", "--field", "title", "--dry-run"], { env })
    if (r.exitCode === 0) expect(r.stdout).toContain("--field title")
    else expect(r.stderr).toContain("[nothing_to_resolve]")
  })
})

describe("read-only database", () => {
  it("still serves reads", () => {
    const copy = NodePath.join(repo.base, "readonly.db")
    withDb(repo.db, (db) => db.run(`VACUUM INTO '${copy}'`), { readonly: true })
    NodeFs.chmodSync(copy, 0o444)
    const r = grove(repo.root, ["task", "list", "--json"], { env: { ...env, GROVE_DB: copy } })
    expect({ exit: r.exitCode, stderr: r.stderr }).toEqual({ exit: 0, stderr: "" })
    expect(r.json.data.length).toBeGreaterThan(0)
  })
})
