/**
 * `grove doctor [--fix]`, `migrate restore` and `sync replica --renew`,
 * end to end: real repositories and worktrees, the real CLI, and every fault
 * made for real on the files (bun:sqlite, cp, a lock naming a dead process).
 */
import { afterEach, describe, expect, it } from "bun:test"
import { Database } from "bun:sqlite"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { findingSeverity, walWarnBytes } from "../src/app/Doctor.ts"
import { migrations } from "../src/migrations/list.ts"
import { dbPathOf, git, grove, makeRepo, makeTempDir, neutralEnv, type TestRepo, withDb } from "./support/index.ts"

const repos: Array<TestRepo> = []
const dirs: Array<string> = []
afterEach(() => {
  for (const r of repos.splice(0)) r.cleanup()
  for (const d of dirs.splice(0)) NodeFs.rmSync(d, { recursive: true, force: true })
})

const env = { ...neutralEnv, GROVE_ACTOR: "doctor-test" } as Record<string, string | undefined>
const timeout = 300_000

/** A repository with an epic and a task written through the CLI. */
const fresh = () => {
  const repo = makeRepo()
  repos.push(repo)
  const epic = grove(repo.root, ["epic", "create", "--title", "Search", "--json"], { env }).json.data.id as string
  grove(repo.root, ["task", "create", "--epic", epic, "--title", "Index", "--json"], { env })
  return repo
}

const doctor = (cwd: string, ...args: Array<string>) => grove(cwd, ["doctor", ...args, "--json"], { env })

/** The findings of a doctor run, healthy or not. */
const findings = (r: ReturnType<typeof doctor>): Array<any> => (r.json.ok ? r.json.data : r.json.error.details).findings
const codes = (r: ReturnType<typeof doctor>) => findings(r).map((f) => f.code)

const eventCount = (root: string) => withDb(dbPathOf(root), (db) => (db.query("SELECT count(*) AS n FROM events").get() as { n: number }).n)
const replicaOf = (root: string) => withDb(dbPathOf(root), (db) => (db.query("SELECT name FROM replicas WHERE id = 1").get() as { name: string }).name)

describe("grove doctor", () => {
  it("docs/doctor.md documents every finding code with its severity, and nothing else", () => {
    const doc = NodeFs.readFileSync(NodePath.join(import.meta.dir, "..", "docs", "doctor.md"), "utf8")
    const rows = Object.fromEntries([...doc.matchAll(/^\| `([a-z_]+)` \| (error|warning) \|/gm)].map((m) => [m[1], m[2]]))
    expect(rows).toEqual({ ...findingSeverity })
  })

  it("a healthy repository: exit 0, no findings", () => {
    const repo = fresh()
    const r = doctor(repo.root)
    expect({ exit: r.exitCode, data: r.json.data }).toEqual({
      exit: 0,
      data: { database: dbPathOf(repo.root), healthy: true, findings: [], backup: null }
    })
  }, timeout)

  it("a dropped trigger: trigger_missing (exit 1, doctor_found_problems); --fix backs up, re-creates it and says so; then healthy", () => {
    const repo = fresh()
    withDb(dbPathOf(repo.root), (db) => db.run("DROP TRIGGER events_no_update"))
    const r = doctor(repo.root)
    expect({ exit: r.exitCode, code: r.json.error.code, found: codes(r) }).toEqual({ exit: 1, code: "doctor_found_problems", found: ["trigger_missing"] })
    const fixed = doctor(repo.root, "--fix")
    expect(fixed.exitCode).toBe(0)
    expect(findings(fixed)).toEqual([expect.objectContaining({ code: "trigger_missing", fixed: true })])
    expect(NodeFs.existsSync(fixed.json.data.backup)).toBe(true)
    // The backup holds the state before the repair: without the trigger.
    const inBackup = new Database(fixed.json.data.backup, { readonly: true })
    expect(inBackup.query("SELECT name FROM sqlite_master WHERE name = 'events_no_update'").get()).toBeNull()
    inBackup.close()
    expect(doctor(repo.root).json.data.findings).toEqual([])
    expect(() => withDb(dbPathOf(repo.root), (db) => db.run("UPDATE events SET payload = '{}'"))).toThrow("append-only")
  }, timeout)

  it("an edited event: chain_broken, which --fix does not touch", () => {
    const repo = fresh()
    withDb(dbPathOf(repo.root), (db) => {
      db.run("DROP TRIGGER events_no_update")
      db.run("UPDATE events SET payload = replace(payload, 'Index', 'Forged') WHERE op = 'task.created'")
      db.run("CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'grove events are append-only'); END")
    })
    const r = doctor(repo.root, "--fix")
    expect(r.exitCode).toBe(1)
    expect(findings(r)).toEqual([expect.objectContaining({ code: "chain_broken", severity: "error" })])
    expect(findings(r)[0].fixed).toBeUndefined()
    expect(r.json.error.details.backup).toBeNull()
  }, timeout)

  it("a database copied into another clone: replica_duplicated; --fix gives the copy a new replica id, keeps every event, and leaves the original alone", () => {
    const repo = fresh()
    const copy = NodePath.join(repo.base, "copy")
    git(repo.base, "clone", "-q", repo.root, copy)
    NodeFs.mkdirSync(NodePath.join(copy, ".git", "grove"))
    NodeFs.copyFileSync(dbPathOf(repo.root), dbPathOf(copy))
    const original = replicaOf(repo.root)
    const events = eventCount(copy)

    const r = doctor(copy)
    expect(r.exitCode).toBe(1)
    expect(findings(r)).toEqual([expect.objectContaining({ code: "replica_duplicated", details: { original: dbPathOf(repo.root), replica: original } })])
    const fixed = doctor(copy, "--fix")
    expect({ exit: fixed.exitCode, out: fixed.stdout }).toEqual({ exit: 0, out: expect.any(String) })
    expect(replicaOf(copy)).not.toBe(original)
    expect(replicaOf(repo.root)).toBe(original)
    expect(eventCount(copy)).toBe(events)
    expect(doctor(copy).json.data.findings).toEqual([])
    // What the copy writes now goes on its own replica's stream; the copy's log still verifies.
    grove(copy, ["epic", "create", "--title", "In the copy", "--json"], { env })
    const streams = withDb(dbPathOf(copy), (db) => db.query("SELECT s.name, r.name AS replica FROM streams s JOIN replicas r ON r.id = s.replica_id ORDER BY s.id").all())
    expect(streams).toEqual([{ name: `main@${original}`, replica: original }, { name: "main", replica: replicaOf(copy) }])
    expect(grove(copy, ["verify", "--json"], { env }).exitCode).toBe(0)
    // The new stream knows everything the old one did: its branch is not behind itself.
    expect(grove(copy, ["sync", "status", "--from", "main", "--json"], { env }).json.data).toMatchObject({ behind: 0 })
  }, timeout)

  it("a database moved (nothing at its old place): database_moved, a warning; --fix records the new place", () => {
    const repo = fresh()
    const moved = NodePath.join(makeTempDir(), "grove.db")
    NodeFs.renameSync(dbPathOf(repo.root), moved)
    const at = { ...env, GROVE_DB: moved }
    const r = grove(repo.root, ["doctor", "--json"], { env: at })
    expect(r.exitCode).toBe(0)
    expect(r.json.data.findings).toEqual([expect.objectContaining({ code: "database_moved", severity: "warning" })])
    expect(grove(repo.root, ["doctor", "--fix", "--json"], { env: at }).json.data.findings[0].fixed).toBe(true)
    expect(grove(repo.root, ["doctor", "--json"], { env: at }).json.data.findings).toEqual([])
    NodeFs.rmSync(NodePath.dirname(moved), { recursive: true, force: true })
  }, timeout)

  it("a stale watch lock in a linked worktree: watch_lock_stale; --fix removes it", () => {
    const repo = fresh()
    const feat = repo.addWorktree("feat")
    const lock = NodePath.join(git(feat, "rev-parse", "--absolute-git-dir"), "grove-watch.lock")
    NodeFs.writeFileSync(lock, "999999999 1\n")
    const r = doctor(repo.root)
    expect(r.exitCode).toBe(0)
    expect(findings(r)).toEqual([expect.objectContaining({ code: "watch_lock_stale", details: { worktree: feat, lock } })])
    expect(findings(doctor(repo.root, "--fix"))[0].fixed).toBe(true)
    expect(NodeFs.existsSync(lock)).toBe(false)
  }, timeout)

  it("a WAL past 64 MiB (kept by an open connection): wal_large (a warning, with its size)", () => {
    const repo = fresh()
    const file = dbPathOf(repo.root)
    // A real large WAL: 70 MiB committed and dropped again (the log is not touched), while this connection stays
    // open, so nobody's close checkpoints and deletes the WAL before doctor looks.
    const holder = new Database(file)
    try {
      holder.run("PRAGMA wal_autocheckpoint = 0")
      holder.run("CREATE TABLE padding (b BLOB)")
      holder.transaction(() => {
        for (let i = 0; i < 70; i++) holder.run("INSERT INTO padding (b) VALUES (zeroblob(1048576))")
      })()
      holder.run("DROP TABLE padding")
      const wal = NodeFs.statSync(`${file}-wal`).size
      expect(wal).toBeGreaterThan(walWarnBytes)
      const r = doctor(repo.root)
      expect(r.exitCode).toBe(0)
      expect(findings(r)).toEqual([expect.objectContaining({ code: "wal_large", severity: "warning", details: { walBytes: expect.any(Number) } })])
      expect(findings(r)[0].details.walBytes).toBeGreaterThan(walWarnBytes)
    } finally {
      holder.close()
    }
    expect(doctor(repo.root).json.data.findings).toEqual([])
  }, timeout)

  it("a page of the file overwritten with garbage: database_corrupt (an error, quick_check's words), which --fix does not touch", () => {
    const repo = fresh()
    const file = dbPathOf(repo.root)
    const { page, size } = withDb(file, (db) => {
      db.run("PRAGMA wal_checkpoint(TRUNCATE)")
      return {
        page: (db.query("SELECT rootpage FROM sqlite_master WHERE name = 'tasks_by_status'").get() as { rootpage: number }).rootpage,
        size: (db.query("PRAGMA page_size").get() as { page_size: number }).page_size
      }
    })
    expect(NodeFs.existsSync(`${file}-wal`) ? NodeFs.statSync(`${file}-wal`).size : 0).toBe(0)
    // The index's b-tree page, as a disk fault or a stray write would leave it: the header byte says no page type.
    const fd = NodeFs.openSync(file, "r+")
    NodeFs.writeSync(fd, Buffer.alloc(size, 0xa5), 0, size, (page - 1) * size)
    NodeFs.closeSync(fd)
    const r = doctor(repo.root, "--fix")
    expect({ exit: r.exitCode, code: r.json.error.code }).toEqual({ exit: 1, code: "doctor_found_problems" })
    const corrupt = findings(r).find((f) => f.code === "database_corrupt")
    expect(corrupt).toMatchObject({ severity: "error", message: expect.stringContaining("quick_check") })
    expect(corrupt.details.quickCheck.join("\n")).toContain(`page ${page}`)
    expect(corrupt.fixed).toBeUndefined()
    expect(r.json.error.details.backup).toBeNull()
  }, timeout)

  it("schema behind (a warning) and schema too new (an error)", () => {
    const dir = makeTempDir()
    dirs.push(dir)
    git(dir, "init", "-q", "-b", "main")
    const file = NodePath.join(dir, "old.db")
    const db = new Database(file)
    for (const m of migrations.slice(0, 3)) db.run(m.up)
    db.run("PRAGMA user_version = 3")
    db.close()
    const behind = grove(dir, ["doctor", "--json"], { env: { ...env, GROVE_DB: file } })
    expect(behind.exitCode).toBe(0)
    expect(behind.json.data.findings).toEqual([expect.objectContaining({ code: "schema_behind", details: { current: 3, latest: migrations.length } })])
    new Database(file).run("PRAGMA user_version = 99")
    const tooNew = grove(dir, ["doctor", "--json"], { env: { ...env, GROVE_DB: file } })
    expect(tooNew.exitCode).toBe(1)
    expect(findings(tooNew).map((f) => f.code)).toEqual(["schema_too_new"])
  }, timeout)

  it("held refs and events (warnings), a missing actor, and one actor writing from two worktrees", () => {
    const repo = fresh()
    withDb(dbPathOf(repo.root), (db) => {
      db.run("INSERT INTO remote_quarantine (remote, ref, tip, code, detail, quarantined_at) VALUES ('origin', '00000000000000ff/main', 'abc', 'bundle_corrupt', 'x', 0)")
      db.run("INSERT INTO quarantine (event_seq, reason, detail, quarantined_at) VALUES (1, 'invalid_payload', 'x', 0)")
      db.run("INSERT INTO leases (entity_id, owner, lease_ms, expires_at) VALUES ('t-gone', 'agent-7', 1000, 1)")
    })
    const feat = repo.addWorktree("feat")
    grove(feat, ["epic", "create", "--title", "From feat", "--json"], { env })
    const r = doctor(repo.root)
    expect(r.exitCode).toBe(0)
    expect(codes(r)).toEqual(["refs_quarantined", "events_quarantined", "claims_expired", "actor_shared"])
    git(repo.root, "config", "--unset", "user.email")
    const bare = grove(repo.root, ["doctor", "--json"], { env: { ...env, GROVE_ACTOR: undefined, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" } })
    expect(codes(bare)).toContain("actor_missing")
  }, timeout)
})

describe("migrate restore", () => {
  it("restores a backup in one transaction after backing up the state it replaces; a file that is not a grove database is backup_invalid, nothing changed", () => {
    const repo = fresh()
    const backup = grove(repo.root, ["migrate", "backup", "--json"], { env }).json.data.path as string
    const before = withDb(dbPathOf(repo.root), (db) => db.query("SELECT * FROM events ORDER BY seq").all())
    grove(repo.root, ["epic", "create", "--title", "After the backup", "--json"], { env })
    const afterWrite = withDb(dbPathOf(repo.root), (db) => db.query("SELECT * FROM events ORDER BY seq").all())

    const junk = NodePath.join(repo.base, "junk.db")
    NodeFs.writeFileSync(junk, "not a database")
    const refused = grove(repo.root, ["migrate", "restore", junk, "--json"], { env })
    expect({ exit: refused.exitCode, code: refused.json.error.code }).toEqual({ exit: 1, code: "backup_invalid" })
    expect(grove(repo.root, ["migrate", "restore", NodePath.join(repo.base, "missing.db"), "--json"], { env }).json.error.code).toBe("backup_invalid")
    expect(withDb(dbPathOf(repo.root), (db) => db.query("SELECT * FROM events ORDER BY seq").all())).toEqual(afterWrite)

    const restored = grove(repo.root, ["migrate", "restore", backup, "--json"], { env })
    expect(restored.exitCode).toBe(0)
    expect(restored.json.data).toMatchObject({ restored: backup, version: migrations.length })
    expect(withDb(dbPathOf(repo.root), (db) => db.query("SELECT * FROM events ORDER BY seq").all())).toEqual(before)
    expect(grove(repo.root, ["verify", "--json"], { env }).exitCode).toBe(0)
    expect(() => withDb(dbPathOf(repo.root), (db) => db.run("DELETE FROM events"))).toThrow("append-only")
    // Undo: the state the restore replaced.
    grove(repo.root, ["migrate", "restore", restored.json.data.previous, "--json"], { env })
    expect(withDb(dbPathOf(repo.root), (db) => db.query("SELECT * FROM events ORDER BY seq").all())).toEqual(afterWrite)
  }, timeout)
})
