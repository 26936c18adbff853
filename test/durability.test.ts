/**
 * A full disk, for real: the database lives on a 1 MiB tmpfs, and a bulk
 * create that cannot fit must fail with a clear error and leave nothing
 * half-written. Mounting a filesystem needs root (CI containers run as root);
 * elsewhere the test says so and is skipped.
 */
import { afterAll, describe, expect, it } from "bun:test"
import { spawnSync } from "bun"
import { Database } from "bun:sqlite"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { grove, makeRepo, neutralEnv, type TestRepo } from "./support/index.ts"

const repo: TestRepo = makeRepo()
const mountPoint = NodePath.join(repo.base, "small")
NodeFs.mkdirSync(mountPoint)
const mounted = process.getuid?.() === 0 &&
  spawnSync(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint]).exitCode === 0
if (!mounted) console.warn("durability.test.ts: cannot mount a 1 MiB tmpfs (needs root): the SQLITE_FULL test is skipped")

afterAll(() => {
  if (mounted) spawnSync(["umount", mountPoint])
  repo.cleanup()
})

describe("a full disk", () => {
  it.skipIf(!mounted)("a bulk create that does not fit is database_error naming the full disk, and nothing of it is written; the database stays sound", () => {
    const env = { ...neutralEnv, GROVE_ACTOR: "durability-test", GROVE_DB: NodePath.join(mountPoint, "grove.db") }
    const epic = grove(repo.root, ["epic", "create", "--title", "Small disk", "--json"], { env }).json.data.id as string
    const count = () => {
      const db = new Database(env.GROVE_DB, { readonly: true })
      try {
        return (db.query("SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM tasks) AS tasks").get() as object)
      } finally {
        db.close()
      }
    }
    const before = count()
    const lines = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ title: `task ${i} ${"x".repeat(60)}` })).join("\n")
    const r = grove(repo.root, ["task", "create-many", "--epic", epic, "--file", "-", "--json"], { env, stdin: lines })
    expect({ exit: r.exitCode, code: r.json?.error?.code }).toEqual({ exit: 1, code: "database_error" })
    expect(r.json.error.message).toMatch(/full/i)
    expect(count()).toEqual(before)
    const db = new Database(env.GROVE_DB, { readonly: true })
    expect(db.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" })
    db.close()
    // Once space is free again (here: a smaller batch), grove writes as before, and the log verifies.
    expect(grove(repo.root, ["task", "create", "--epic", epic, "--title", "fits", "--json"], { env }).exitCode).toBe(0)
    expect(grove(repo.root, ["verify", "--json"], { env }).exitCode).toBe(0)
  }, 120_000)
})
