import { describe, expect, it } from "bun:test"
import { Database } from "bun:sqlite"
import { spawn } from "bun"
import { Effect, Layer } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Backup, listBackups } from "../src/migrations/Backup.ts"
import { assertContiguous, checksum, irreversible, type Migration } from "../src/migrations/Migration.ts"
import { Migrations, Migrator } from "../src/migrations/Migrator.ts"
import { migrations as realMigrations } from "../src/migrations/list.ts"
import { childEnv, flipRun, grove, groveArgv, run, scratch, sqliteAt, withDb } from "./support/index.ts"

const temp = scratch("each")
const tempDb = (): string => NodePath.join(temp.dir(), "grove.db")

/** Sqlite + Backup + Migrator over one file, with the given migration list. */
const migratorAt = (path: string, list: ReadonlyArray<Migration>) => {
  const backup = Backup.layer.pipe(Layer.provideMerge(sqliteAt(path)))
  return Migrator.layer.pipe(Layer.provideMerge(Layer.merge(backup, Layer.succeed(Migrations, list))))
}

type MigratorService = Migrator["Type"]
/** Opens the database, runs `f` with its Migrator, closes it. */
const withMigrator = <A, E>(path: string, list: ReadonlyArray<Migration>, f: (m: MigratorService) => Effect.Effect<A, E>) =>
  run(Effect.flatMap(Migrator, f).pipe(Effect.provide(migratorAt(path, list))))
const failMigrator = <A, E>(path: string, list: ReadonlyArray<Migration>, f: (m: MigratorService) => Effect.Effect<A, E>) =>
  flipRun(Effect.flatMap(Migrator, f).pipe(Effect.provide(migratorAt(path, list))))

/** Everything observable about the file: schema objects, user_version, and every table's rows. */
const snapshot = (path: string) =>
  withDb(path, (db) => {
    const schema = db.query("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").all() as Array<
      { type: string; name: string }
    >
    const data: Record<string, unknown> = {}
    for (const t of schema.filter((s) => s.type === "table")) data[t.name] = db.query(`SELECT * FROM "${t.name}"`).all()
    return { schema, userVersion: (db.query("PRAGMA user_version").get() as { user_version: number }).user_version, data }
  })

const tableNames = (path: string) =>
  withDb(path, (db) =>
    (db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((r) =>
      r.name
    ))

const ledger = (path: string) =>
  withDb(path, (db) => db.query("SELECT version, name, checksum FROM grove_migrations ORDER BY version").all())

const m1: Migration = {
  version: 1,
  name: "notes",
  up: "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL); INSERT INTO notes (body) VALUES ('seed');",
  down: "DROP TABLE notes;"
}
const m2: Migration = {
  version: 2,
  name: "tags",
  up: "CREATE TABLE tags (note_id INTEGER NOT NULL, tag TEXT NOT NULL); CREATE INDEX tags_by_tag ON tags (tag);",
  down: "DROP TABLE tags;"
}
const m3: Migration = {
  version: 3,
  name: "note title",
  up: "ALTER TABLE notes ADD COLUMN title TEXT;",
  down: "ALTER TABLE notes DROP COLUMN title;"
}

describe("migrate up", () => {
  it("applies pending steps in order, records checksums, sets user_version; a second up is a no-op", async () => {
    const path = tempDb()
    const list = [m1, m2, m3]
    const first = await withMigrator(path, list, (m) => m.up)
    expect(first).toEqual({
      from: 0,
      to: 3,
      steps: [{ version: 1, name: "notes" }, { version: 2, name: "tags" }, { version: 3, name: "note title" }],
      backup: undefined
    })
    expect(tableNames(path)).toEqual(["grove_migrations", "notes", "tags"])
    expect(ledger(path)).toEqual(list.map((m) => ({ version: m.version, name: m.name, checksum: checksum(m) })))
    const before = snapshot(path)
    expect(before.userVersion).toBe(3)
    expect(before.data["notes"]).toEqual([{ id: 1, body: "seed", title: null }])

    const second = await withMigrator(path, list, (m) => m.up)
    expect(second).toEqual({ from: 3, to: 3, steps: [], backup: undefined })
    // Not even applied_at changed: nothing was written.
    expect(snapshot(path)).toEqual(before)
  })

  it("applies only the steps added since the last run", async () => {
    const path = tempDb()
    await withMigrator(path, [m1], (m) => m.up)
    const run2 = await withMigrator(path, [m1, m2, m3], (m) => m.up)
    expect(run2.from).toBe(1)
    expect(run2.to).toBe(3)
    expect(run2.steps.map((s) => s.version)).toEqual([2, 3])
    expect(snapshot(path).data["notes"]).toEqual([{ id: 1, body: "seed", title: null }]) // m1's seed ran once
  })

  it("status lists applied and pending steps with checksum state", async () => {
    const path = tempDb()
    await withMigrator(path, [m1], (m) => m.up)
    const status = await withMigrator(path, [m1, m2], (m) => m.status)
    expect(status.current).toBe(1)
    expect(status.latest).toBe(2)
    expect(status.applied.map((a) => ({ version: a.version, checksum: a.checksum, matches: a.checksumMatches }))).toEqual([
      { version: 1, checksum: checksum(m1), matches: true }
    ])
    expect(status.pending).toEqual([{ version: 2, name: "tags" }])
    const edited = await withMigrator(path, [{ ...m1, up: `${m1.up} -- edited` }], (m) => m.status)
    expect(edited.applied[0]?.checksumMatches).toBe(false)
  })

  it("a database newer than the list is refused with schema_too_new by up and ensureCurrent", async () => {
    const path = tempDb()
    await withMigrator(path, [m1, m2], (m) => m.up)
    const before = snapshot(path)
    for (const attempt of [(m: MigratorService) => m.up, (m: MigratorService) => m.ensureCurrent]) {
      const error = await failMigrator(path, [m1], attempt)
      expect(error).toMatchObject({ _tag: "SchemaTooNew", code: "schema_too_new", details: { current: 2, latest: 1 } })
    }
    expect(snapshot(path)).toEqual(before)
  })

  it("a list that is not 1, 2, 3, ... is rejected", () => {
    expect(() => assertContiguous([m1, m3])).toThrow(/not contiguous/)
    expect(() => assertContiguous([m2])).toThrow(/not contiguous/)
    expect(() => assertContiguous([m1, m2, m3])).not.toThrow()
  })
})

describe("warm start", () => {
  it("ensureCurrent reads only user_version when the schema is current", async () => {
    const path = tempDb()
    await withMigrator(path, [m1, m2], (m) => m.up)
    // Break the ledger: any read of grove_migrations now fails.
    withDb(path, (db) => {
      db.run("ALTER TABLE grove_migrations RENAME TO grove_migrations_saved")
      db.run("CREATE TABLE grove_migrations (unrelated TEXT)")
    })
    await withMigrator(path, [m1, m2], (m) => m.ensureCurrent)
    // The full path does read it, and so fails: the success above really skipped it.
    const viaStatus = await failMigrator(path, [m1, m2], (m) => m.status)
    expect(viaStatus).toMatchObject({ code: "database_error" })
    const viaUp = await failMigrator(path, [m1, m2], (m) => m.up)
    expect(viaUp).toMatchObject({ code: "database_error" })
    // With a new pending step ensureCurrent takes the full path and needs the ledger too.
    const pending = await failMigrator(path, [m1, m2, m3], (m) => m.ensureCurrent)
    expect(pending).toMatchObject({ code: "database_error" })
    expect(snapshot(path).userVersion).toBe(2)
  })

  it("ensureCurrent applies pending steps when behind", async () => {
    const path = tempDb()
    await withMigrator(path, [m1, m2, m3], (m) => m.ensureCurrent)
    expect(snapshot(path).userVersion).toBe(3)
    expect(ledger(path)).toHaveLength(3)
  })
})

describe("checksums", () => {
  it("an applied step whose text changed is refused with migration_checksum_mismatch and nothing runs", async () => {
    const path = tempDb()
    await withMigrator(path, [m1, m2], (m) => m.up)
    const before = snapshot(path)
    const editedM2: Migration = { ...m2, up: m2.up.replace("tags_by_tag", "tags_by_tag2") }
    const attempts: Array<(m: MigratorService) => Effect.Effect<unknown, unknown>> = [
      (m) => m.up,
      (m) => m.ensureCurrent,
      (m) => m.down(0)
    ]
    for (const attempt of attempts) {
      // With a pending m3 as well: it must not be applied either.
      const error = await failMigrator(path, [m1, editedM2, m3], attempt)
      expect(error).toMatchObject({
        _tag: "MigrationChecksumMismatch",
        code: "migration_checksum_mismatch",
        details: { version: 2, recorded: checksum(m2), expected: checksum(editedM2) }
      })
    }
    // Same version, same text: up on the unedited list is still fine afterwards.
    expect(snapshot(path)).toEqual(before)
    expect(await withMigrator(path, [m1, m2], (m) => m.up)).toMatchObject({ steps: [] })
  })

  it("editing a step's name or down also counts as a change", async () => {
    const path = tempDb()
    await withMigrator(path, [m1], (m) => m.up)
    for (const edited of [{ ...m1, name: "renamed" }, { ...m1, down: "DROP TABLE IF EXISTS notes;" }]) {
      const error = await failMigrator(path, [edited], (m) => m.up)
      expect(error).toMatchObject({ code: "migration_checksum_mismatch" })
    }
  })
})

describe("failure rollback", () => {
  const badSql = "CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);"
  const sqliteMessage = (() => {
    const db = new Database(":memory:")
    try {
      db.run(badSql)
      return "no error"
    } catch (e) {
      return (e as Error).message
    } finally {
      db.close()
    }
  })()
  const bad: Migration = { version: 3, name: "broken", up: badSql, down: "DROP TABLE half_done;" }

  it("a failing step leaves schema, data and user_version exactly as before, including earlier steps of the same run", async () => {
    expect(sqliteMessage).toContain("no_such_table")
    const path = tempDb()
    await withMigrator(path, [m1], (m) => m.up)
    const before = snapshot(path)
    // m2 is fine and runs first; the failure of step 3 must undo it too.
    const error = await failMigrator(path, [m1, m2, bad], (m) => m.up)
    expect(error).toMatchObject({ _tag: "MigrationFailed", code: "migration_failed" })
    expect(error.message).toContain(sqliteMessage)
    expect(error.message).toContain("broken")
    expect((error as { details?: { cause?: string } }).details?.cause).toContain(sqliteMessage)
    expect(snapshot(path)).toEqual(before)
    expect(tableNames(path)).not.toContain("half_done")
  })

  it("when every step was pending, none is applied", async () => {
    const path = tempDb()
    const error = await failMigrator(path, [m1, { ...bad, version: 2 }], (m) => m.up)
    expect(error).toMatchObject({ code: "migration_failed" })
    expect(error.message).toContain(sqliteMessage)
    const after = snapshot(path)
    expect(after.userVersion).toBe(0)
    expect(after.schema.map((s) => s.name)).toEqual(["grove_migrations"])
    expect(after.data["grove_migrations"]).toEqual([])
  })
})

describe("migrate down", () => {
  it("down --to N reverts newest first, updates the ledger and user_version, and takes a backup", async () => {
    const path = tempDb()
    await withMigrator(path, [m1, m2, m3], (m) => m.up)
    withDb(path, (db) => db.run("INSERT INTO tags (note_id, tag) VALUES (1, 'keep-me-in-backup')"))
    const result = await withMigrator(path, [m1, m2, m3], (m) => m.down(1))
    expect(result.from).toBe(3)
    expect(result.to).toBe(1)
    expect(result.steps).toEqual([{ version: 3, name: "note title" }, { version: 2, name: "tags" }])
    expect(tableNames(path)).toEqual(["grove_migrations", "notes"])
    expect(ledger(path)).toEqual([{ version: 1, name: "notes", checksum: checksum(m1) }])
    expect(snapshot(path).userVersion).toBe(1)
    expect(snapshot(path).data["notes"]).toEqual([{ id: 1, body: "seed" }])
    // The backup holds the state before the revert.
    expect(result.backup).toBeDefined()
    expect(listBackups(path)).toEqual([result.backup!])
    withDb(result.backup!, (db) => {
      expect(db.query("SELECT tag FROM tags").all()).toEqual([{ tag: "keep-me-in-backup" }])
      expect(db.query("PRAGMA user_version").get()).toEqual({ user_version: 3 })
    })
    // And up brings it forward again.
    const again = await withMigrator(path, [m1, m2, m3], (m) => m.up)
    expect(again.steps.map((s) => s.version)).toEqual([2, 3])
    expect(snapshot(path).userVersion).toBe(3)
  })

  it("down across an irreversible step fails with migration_irreversible and a hint about backups; nothing changes", async () => {
    const path = tempDb()
    const oneWay: Migration = { ...m2, down: irreversible }
    await withMigrator(path, [m1, oneWay, m3], (m) => m.up)
    const before = snapshot(path)
    for (const to of [0, 1]) {
      const error = await failMigrator(path, [m1, oneWay, m3], (m) => m.down(to))
      expect(error).toMatchObject({ _tag: "MigrationIrreversible", code: "migration_irreversible", details: { version: 2 } })
      expect(error.message).toContain("backup")
    }
    expect(snapshot(path)).toEqual(before)
    expect(listBackups(path)).toEqual([]) // refused before any backup was taken
    // Reverting the steps above it is still allowed.
    const partial = await withMigrator(path, [m1, oneWay, m3], (m) => m.down(2))
    expect(partial.steps).toEqual([{ version: 3, name: "note title" }])
  })

  it("invalid targets fail with migration_target_invalid", async () => {
    const path = tempDb()
    const fresh = await failMigrator(path, [m1, m2], (m) => m.down(0))
    expect(fresh).toMatchObject({ code: "migration_target_invalid" })
    await withMigrator(path, [m1, m2], (m) => m.up)
    const before = snapshot(path)
    for (const to of [2, 5, -1, 1.5, Number.NaN]) {
      const error = await failMigrator(path, [m1, m2], (m) => m.down(to))
      expect(error).toMatchObject({ _tag: "MigrationTargetInvalid", code: "migration_target_invalid" })
    }
    expect(snapshot(path)).toEqual(before)
  })
})

describe("destructive steps", () => {
  const edges: Migration = {
    version: 1,
    name: "edges",
    up: "CREATE TABLE edges (source TEXT NOT NULL, target TEXT NOT NULL);",
    down: "DROP TABLE edges;"
  }
  const dedupe: Migration = {
    version: 2,
    name: "unique edges",
    destructive: {
      probe: "SELECT EXISTS (SELECT 1 FROM edges GROUP BY source, target HAVING count(*) > 1)",
      delete: "DELETE FROM edges WHERE rowid NOT IN (SELECT min(rowid) FROM edges GROUP BY source, target)"
    },
    up: "CREATE UNIQUE INDEX edges_unique ON edges (source, target);",
    down: "DROP INDEX edges_unique;"
  }

  it("with duplicates: backs up first, deletes them, reports the count; the backup holds the old data", async () => {
    const path = tempDb()
    await withMigrator(path, [edges], (m) => m.up)
    withDb(path, (db) =>
      db.run(
        "INSERT INTO edges VALUES ('a','b'), ('a','b'), ('a','b'), ('a','c'), ('b','c'), ('b','c')"
      ))
    const result = await withMigrator(path, [edges, dedupe], (m) => m.up)
    expect(result.steps).toEqual([{ version: 2, name: "unique edges", deletedRows: 3 }])
    expect(result.backup).toBeDefined()
    expect(NodePath.dirname(result.backup!)).toBe(NodePath.dirname(path))
    expect(listBackups(path)).toEqual([result.backup!])
    withDb(path, (db) => {
      expect(db.query("SELECT source, target FROM edges ORDER BY 1, 2").all()).toEqual([
        { source: "a", target: "b" },
        { source: "a", target: "c" },
        { source: "b", target: "c" }
      ])
      expect(db.query("SELECT name FROM sqlite_master WHERE name = 'edges_unique'").all()).toHaveLength(1)
    })
    withDb(result.backup!, (db) => {
      expect(db.query("SELECT count(*) AS c FROM edges").get()).toEqual({ c: 6 })
      expect(db.query("PRAGMA user_version").get()).toEqual({ user_version: 1 })
      expect(db.query("SELECT name FROM sqlite_master WHERE name = 'edges_unique'").all()).toHaveLength(0)
    })
  })

  it("without duplicates: no backup, no delete, no deletedRows", async () => {
    const path = tempDb()
    await withMigrator(path, [edges], (m) => m.up)
    withDb(path, (db) => db.run("INSERT INTO edges VALUES ('a','b'), ('a','c')"))
    const result = await withMigrator(path, [edges, dedupe], (m) => m.up)
    expect(result.steps).toEqual([{ version: 2, name: "unique edges" }])
    expect(result.backup).toBeUndefined()
    expect(listBackups(path)).toEqual([])
    expect(withDb(path, (db) => db.query("SELECT count(*) AS c FROM edges").get())).toEqual({ c: 2 })
  })

  it("on a fresh database the probe finds nothing to delete and no backup is taken", async () => {
    const path = tempDb()
    const result = await withMigrator(path, [edges, dedupe], (m) => m.up)
    expect(result.steps).toEqual([{ version: 1, name: "edges" }, { version: 2, name: "unique edges" }])
    expect(result.backup).toBeUndefined()
    expect(listBackups(path)).toEqual([])
  })
})

describe("backups", () => {
  it("Backup.create with retain keeps the newest N, in creation order even within one millisecond", async () => {
    const path = tempDb()
    await withMigrator(path, [m1], (m) => m.up)
    const made = await run(Effect.gen(function*() {
      const backup = yield* Backup
      const paths: Array<string> = []
      for (let i = 0; i < 4; i++) paths.push((yield* backup.create()).path)
      const last = yield* backup.create({ retain: 2 })
      return { paths: [...paths, last.path], removed: last.removed }
    }).pipe(Effect.provide(migratorAt(path, [m1]))))
    expect(new Set(made.paths).size).toBe(5)
    expect(listBackups(path)).toEqual([made.paths[4]!, made.paths[3]!])
    expect([...made.removed].sort()).toEqual(made.paths.slice(0, 3).sort())
    for (const gone of made.paths.slice(0, 3)) expect(NodeFs.existsSync(gone)).toBe(false)
  })

  it("grove migrate backup writes a copy beside the database; --retain 2 after 4 backups leaves the 2 newest", () => {
    const r = temp.repo()
    const init = grove(r.root, ["init", "--json"])
    expect(init.exitCode).toBe(0)
    const dbPath: string = init.json.data.database
    withDb(dbPath, (db) => {
      db.run("INSERT INTO streams (name) VALUES ('main'), ('feature')")
    })
    const live = snapshot(dbPath)

    const first = grove(r.root, ["migrate", "backup", "--json"])
    expect(first.exitCode).toBe(0)
    expect(first.json).toMatchObject({ ok: true, command: "migrate backup" })
    const backupPath: string = first.json.data.path
    expect(NodePath.dirname(backupPath)).toBe(NodePath.dirname(dbPath))
    expect(first.json.data.bytes).toBe(NodeFs.statSync(backupPath).size)
    // The backup is a complete database with the same contents.
    expect(snapshot(backupPath)).toEqual(live)

    const paths = [backupPath]
    for (let i = 0; i < 2; i++) paths.push(grove(r.root, ["migrate", "backup", "--json"]).json.data.path)
    const last = grove(r.root, ["migrate", "backup", "--retain", "2", "--json"])
    expect(last.exitCode).toBe(0)
    paths.push(last.json.data.path)
    expect(new Set(paths).size).toBe(4)
    expect(listBackups(dbPath)).toEqual([paths[3]!, paths[2]!])
    expect([...last.json.data.removed].sort()).toEqual([paths[0], paths[1]].sort())
    // The live database is unchanged.
    expect(snapshot(dbPath)).toEqual(live)
  })
})

describe("the real migration list", () => {
  it("applies; refuses to revert the identity steps, the signing key and the replica id (they would drop the database's identity on remotes); version 1 reverts cleanly", async () => {
    const path = tempDb()
    const up1 = await withMigrator(path, realMigrations, (m) => m.up)
    expect(up1.to).toBe(realMigrations.length)
    const applied = snapshot(path)
    expect(applied.userVersion).toBe(realMigrations.length)
    expect(applied.schema.filter((s) => s.type === "table").map((s) => s.name)).toEqual(
      expect.arrayContaining(["events", "transactions", "streams", "epics", "tasks", "subtasks", "dependencies", "hlc", "conflicts", "heads"])
    )
    const refused = await failMigrator(path, realMigrations, (m) => m.down(0))
    expect(refused).toMatchObject({ code: "migration_irreversible", details: { version: 8 } })
    expect(snapshot(path)).toEqual(applied)
    const signing = realMigrations.findIndex((m) => m.name.startsWith("signed bundles"))
    const beforeSigning = tempDb()
    await withMigrator(beforeSigning, realMigrations.slice(0, signing), (m) => m.up)
    expect(await failMigrator(beforeSigning, realMigrations.slice(0, signing), (m) => m.down(0))).toMatchObject({
      code: "migration_irreversible",
      details: { version: 3 }
    })
    // Version 1 alone goes down and up again to the same schema.
    const first = realMigrations.slice(0, 1)
    const path1 = tempDb()
    await withMigrator(path1, first, (m) => m.up)
    const one = snapshot(path1)
    const down = await withMigrator(path1, first, (m) => m.down(0))
    expect(down.steps.map((s) => s.version)).toEqual([1])
    expect(snapshot(path1).schema.map((s) => s.name)).toEqual(["grove_migrations"])
    await withMigrator(path1, first, (m) => m.up)
    expect(snapshot(path1).schema).toEqual(one.schema)
  })

  it("grove migrate down through the CLI refuses below the irreversible step with a backup hint", () => {
    const dir = temp.dir()
    const env = { GROVE_DB: NodePath.join(dir, "cli.db") }
    const up = grove(dir, ["migrate", "up", "--json"], { env })
    expect(up.exitCode).toBe(0)
    expect(up.json).toMatchObject({ ok: true, command: "migrate up", data: { from: 0, to: realMigrations.length } })
    const down = grove(dir, ["migrate", "down", "--to", "0", "--json"], { env })
    expect(down.exitCode).toBe(1)
    expect(down.json).toMatchObject({ ok: false, error: { code: "migration_irreversible", message: expect.stringContaining("backup") } })
    expect(snapshot(env.GROVE_DB).userVersion).toBe(realMigrations.length)
  })

  it("several processes racing to migrate the same fresh database apply each step exactly once", async () => {
    const dir = temp.dir()
    const path = NodePath.join(dir, "race.db")
    // Create the file and the ledger at version 0.
    expect((await withMigrator(path, realMigrations, (m) => m.status)).current).toBe(0)
    // Hold the write lock so that every process reads version 0 and then queues for the lock.
    const holder = new Database(path)
    holder.run("BEGIN IMMEDIATE")
    const procs = Array.from({ length: 3 }, () =>
      spawn(groveArgv(["migrate", "up", "--json"]), {
        cwd: dir,
        env: childEnv({ GROVE_DB: path }),
        stdout: "pipe",
        stderr: "pipe"
      }))
    await Bun.sleep(700)
    holder.run("COMMIT")
    holder.close()
    const results = await Promise.all(
      procs.map(async (p) => ({ stdout: await new Response(p.stdout).text(), exitCode: await p.exited }))
    )
    const envelopes = results.map((r) => JSON.parse(r.stdout))
    for (const [i, r] of results.entries()) {
      expect(envelopes[i]).toMatchObject({ ok: true })
      expect(r.exitCode).toBe(0)
    }
    expect(envelopes.flatMap((e) => e.data.steps).map((s: { version: number }) => s.version)).toEqual(
      realMigrations.map((m) => m.version)
    )
    expect(ledger(path)).toHaveLength(realMigrations.length)
  }, 15_000)
})

describe("migration 11: cascaded deletes by entity", () => {
  it("a database at version 10 gains the index over the cascaded deletes it already holds, which the learner's question searches; down drops it", async () => {
    const path = tempDb()
    const ten = realMigrations.slice(0, 10)
    await withMigrator(path, ten, (m) => m.up)
    withDb(path, (db) => {
      const insert = db.query(
        "INSERT INTO events (seq, id, tx_id, stream_id, clock, entity_kind, entity_id, op, payload, payload_version, cause_id) VALUES (?, ?, 1, 1, ?, ?, ?, ?, '{}', 1, ?)"
      )
      insert.run(1, "ev-1", 1, "task", "t-kept", "task.created", null)
      insert.run(2, "ev-2", 2, "epic", "e-1", "epic.deleted", null)
      insert.run(3, "ev-3", 3, "task", "t-cascaded", "task.deleted", "ev-2")
    })
    const eleven = realMigrations.slice(0, 11)
    const up = await withMigrator(path, eleven, (m) => m.up)
    expect(up.steps.map((s) => s.version)).toEqual([11])
    const probe = "SELECT DISTINCT entity_id FROM events WHERE cause_id IS NOT NULL AND entity_id IN (?, ?)"
    withDb(path, (db) => {
      const plan = (db.query(`EXPLAIN QUERY PLAN ${probe}`).all("t-kept", "t-cascaded") as Array<{ detail: string }>).map((r) => r.detail)
      expect(plan.join("; ")).toMatch(/SEARCH events USING (COVERING )?INDEX events_cascaded_by_entity \(entity_id=\?\)/)
      expect(db.query(probe).all("t-kept", "t-cascaded")).toEqual([{ entity_id: "t-cascaded" }])
      expect(db.query("SELECT entity_id FROM events INDEXED BY events_cascaded_by_entity WHERE cause_id IS NOT NULL").all()).toEqual([
        { entity_id: "t-cascaded" }
      ])
    })
    const down = await withMigrator(path, eleven, (m) => m.down(10))
    expect(down.steps.map((s) => s.version)).toEqual([11])
    expect(withDb(path, (db) => db.query("SELECT name FROM sqlite_master WHERE name = 'events_cascaded_by_entity'").all())).toEqual([])
  })
})

describe("backup retention bounds", () => {
  it("--retain 0 and --retain -1 are refused with invalid_input and remove nothing; --retain 1 keeps the new backup", () => {
    const dir = temp.dir()
    const env = { GROVE_DB: NodePath.join(dir, "keep.db") }
    expect(grove(dir, ["migrate", "backup", "--json"], { env }).exitCode).toBe(0)
    for (const n of ["0", "-1"]) {
      const r = grove(dir, ["migrate", "backup", "--retain", n, "--json"], { env })
      expect(r.exitCode).toBe(2)
      expect(r.json.error.code).toBe("invalid_input")
    }
    expect(listBackups(env.GROVE_DB)).toHaveLength(1)
    const kept = grove(dir, ["migrate", "backup", "--retain", "1", "--json"], { env })
    expect(kept.exitCode).toBe(0)
    expect(listBackups(env.GROVE_DB)).toEqual([kept.json.data.path])
  })
})
