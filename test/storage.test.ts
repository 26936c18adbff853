import { describe, expect, it } from "bun:test"
import { Database } from "bun:sqlite"
import { spawn } from "bun"
import { Cause, Effect, Exit, Layer } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { repositoryLayer } from "../src/app/AppLayer.ts"
import { DatabaseLocation } from "../src/storage/DatabaseLocation.ts"
import { Sqlite } from "../src/storage/Sqlite.ts"
import { trySqlite } from "../src/storage/errors.ts"
import { configLayer, readStorageSettings } from "../src/app/Config.ts"
import { migrations } from "../src/migrations/list.ts"
import {
  childEnv,
  type EnvPatch,
  flipRun,
  git,
  grove,
  groveAsync,
  run,
  scratch,
  sqliteAt,
  withDb
} from "./support/index.ts"

const temp = scratch("each")
const repo = temp.repo
const tempDir = temp.dir

/** The database path DatabaseLocation resolves in-process for a working directory, exactly as the CLI builds it. */
const locationOf = (cwd: string, env: EnvPatch = {}) =>
  Effect.map(DatabaseLocation, (l) => l.path).pipe(
    Effect.provide(DatabaseLocation.layer.pipe(Layer.provide(Layer.merge(configLayer(env), repositoryLayer(cwd)))))
  )
const locate = (cwd: string, env: EnvPatch = {}) => run(locationOf(cwd, env))

const pragma = (db: Database, name: string): unknown => Object.values(db.query(`PRAGMA ${name}`).get() as object)[0]

const commonDirOf = (cwd: string) => git(cwd, "rev-parse", "--path-format=absolute", "--git-common-dir")

describe("database location", () => {
  it("resolves to <common dir>/grove/grove.db from the root, a nested dir, a linked worktree and a dir inside it", async () => {
    const r = repo()
    const worktree = r.addWorktree("feature/a")
    const nested = NodePath.join(r.root, "src", "deep")
    const nestedInWorktree = NodePath.join(worktree, "lib", "x")
    NodeFs.mkdirSync(nested, { recursive: true })
    NodeFs.mkdirSync(nestedInWorktree, { recursive: true })
    const expected = r.db
    // The worktree's own git dir differs from the common dir; the database must follow the common one.
    expect(git(worktree, "rev-parse", "--path-format=absolute", "--git-dir")).not.toBe(NodePath.join(r.root, ".git"))
    expect(commonDirOf(worktree)).toBe(NodePath.join(r.root, ".git"))
    for (const cwd of [r.root, nested, worktree, nestedInWorktree]) {
      expect(await locate(cwd)).toBe(expected)
    }
  })

  it("GROVE_DB overrides the location in-process, resolved against the working directory, without asking git", async () => {
    const r = repo()
    const nested = NodePath.join(r.root, "sub")
    NodeFs.mkdirSync(nested)
    expect(await locate(nested, { GROVE_DB: "data/my.db" })).toBe(NodePath.join(nested, "data", "my.db"))
    // Outside any repository the override still works: git is never consulted.
    const plain = tempDir()
    expect(await locate(plain, { GROVE_DB: "/somewhere/else.db" })).toBe("/somewhere/else.db")
  })

  it("grove init from the root and from a nested dir of a linked worktree report the same database file", () => {
    const r = repo()
    const worktree = r.addWorktree("wt-e2e")
    const inside = NodePath.join(worktree, "a", "b")
    NodeFs.mkdirSync(inside, { recursive: true })
    const first = grove(inside, ["init", "--json"])
    expect(first.exitCode).toBe(0)
    expect(first.json.data.database).toBe(r.db)
    expect(first.json.data.created).toBe(true)
    const second = grove(r.root, ["init", "--json"])
    expect(second.exitCode).toBe(0)
    expect(second.json.data.database).toBe(first.json.data.database)
    expect(second.json.data.created).toBe(false)
    expect(NodeFs.existsSync(first.json.data.database)).toBe(true)
    // git does not see the database: the work trees stay clean.
    expect(git(r.root, "status", "--porcelain")).toBe("")
    expect(git(worktree, "status", "--porcelain")).toBe("")
  })

  it("GROVE_DB set for the CLI puts the database there and creates nothing under .git", () => {
    const r = repo()
    const elsewhere = tempDir()
    const target = NodePath.join(elsewhere, "nested", "custom.db")
    const result = grove(r.root, ["init", "--json"], { env: { GROVE_DB: target } })
    expect(result.exitCode).toBe(0)
    expect(result.json.data.database).toBe(target)
    expect(NodeFs.existsSync(target)).toBe(true)
    expect(NodeFs.existsSync(NodePath.join(r.root, ".git", "grove"))).toBe(false)
  })

  it("outside a repository without GROVE_DB the CLI exits 1 with not_a_repository and creates nothing", () => {
    const plain = tempDir()
    const result = grove(plain, ["init", "--json"])
    expect(result.exitCode).toBe(1)
    expect(result.json.ok).toBe(false)
    expect(result.json.error.code).toBe("not_a_repository")
    expect(result.json.error.message).toContain("GROVE_DB")
    expect(NodeFs.readdirSync(plain)).toEqual([])
  })

  it("outside a repository the in-process location fails with NotARepository", async () => {
    const plain = tempDir()
    const error = await flipRun(locationOf(plain))
    expect(error).toMatchObject({ _tag: "NotARepository", code: "not_a_repository" })
  })
})

describe("connection pragmas", () => {
  const readAll = (path: string, env: Record<string, string | undefined>) =>
    run(Effect.gen(function*() {
      const { db } = yield* Sqlite
      return {
        journal_mode: pragma(db, "journal_mode"),
        synchronous: pragma(db, "synchronous"),
        foreign_keys: pragma(db, "foreign_keys"),
        temp_store: pragma(db, "temp_store"),
        mmap_size: pragma(db, "mmap_size"),
        cache_size: pragma(db, "cache_size"),
        wal_autocheckpoint: pragma(db, "wal_autocheckpoint"),
        busy_timeout: pragma(db, "busy_timeout")
      }
    }).pipe(Effect.provide(sqliteAt(path, env))))

  it("default settings read back from a live connection", async () => {
    const path = NodePath.join(tempDir(), "p.db")
    const p = await readAll(path, {})
    expect(p).toEqual({
      journal_mode: "wal",
      synchronous: 1,
      foreign_keys: 1,
      temp_store: 2,
      mmap_size: 268435456,
      cache_size: -65536,
      wal_autocheckpoint: 1000,
      busy_timeout: 10000
    })
  })

  it("GROVE_SQLITE_DURABILITY=full selects synchronous=FULL and GROVE_SQLITE_CACHE_MIB=N sets cache_size=-(N*1024)", async () => {
    const path = NodePath.join(tempDir(), "p.db")
    const p = await readAll(path, { GROVE_SQLITE_DURABILITY: "full", GROVE_SQLITE_CACHE_MIB: "8", GROVE_BUSY_TIMEOUT_MS: "250" })
    expect(p.synchronous).toBe(2)
    expect(p.cache_size).toBe(-8 * 1024)
    expect(p.busy_timeout).toBe(250)
    expect(p.journal_mode).toBe("wal")
    const normal = await readAll(path, { GROVE_SQLITE_DURABILITY: "normal", GROVE_SQLITE_CACHE_MIB: "1" })
    expect(normal.synchronous).toBe(1)
    expect(normal.cache_size).toBe(-1024)
  })

  it("the file stays in WAL mode for a later plain connection", async () => {
    const path = NodePath.join(tempDir(), "p.db")
    await readAll(path, {})
    const raw = new Database(path)
    try {
      expect(pragma(raw, "journal_mode")).toBe("wal")
    } finally {
      raw.close()
    }
  })
})

describe("environment validation", () => {
  const bad: ReadonlyArray<readonly [string, string]> = [
    ["GROVE_SQLITE_CACHE_MIB", "abc"],
    ["GROVE_SQLITE_CACHE_MIB", "-1"],
    ["GROVE_SQLITE_CACHE_MIB", "1.5"],
    ["GROVE_SQLITE_DURABILITY", "bogus"],
    ["GROVE_BUSY_TIMEOUT_MS", "soon"]
  ]

  it("readStorageSettings rejects each bad value with InvalidInput naming the variable", async () => {
    for (const [variable, value] of bad) {
      const error = await flipRun(readStorageSettings({ [variable]: value }))
      expect(error).toMatchObject({ _tag: "InvalidInput", code: "invalid_input", details: { variable, value } })
      expect(error.message).toContain(variable)
    }
    const ok = await run(readStorageSettings({ GROVE_SQLITE_CACHE_MIB: "0", GROVE_SQLITE_DURABILITY: "full" }))
    expect(ok).toMatchObject({ cacheMiB: 0, synchronous: "FULL", explicitPath: undefined })
  })

  it("the CLI exits 2 with invalid_input naming the variable and creates no database or grove/ directory", async () => {
    const r = repo()
    const elsewhere = tempDir()
    const cases = [
      { env: { GROVE_SQLITE_CACHE_MIB: "abc" }, variable: "GROVE_SQLITE_CACHE_MIB", json: true },
      { env: { GROVE_SQLITE_CACHE_MIB: "-1" }, variable: "GROVE_SQLITE_CACHE_MIB", json: false },
      // With GROVE_DB pointing at a fresh path: neither the file nor its directory may appear.
      { env: { GROVE_SQLITE_CACHE_MIB: "1.5", GROVE_DB: NodePath.join(elsewhere, "sub", "x.db") }, variable: "GROVE_SQLITE_CACHE_MIB", json: true },
      { env: { GROVE_SQLITE_DURABILITY: "bogus" }, variable: "GROVE_SQLITE_DURABILITY", json: true }
    ]
    const results = await Promise.all(
      cases.map((c) => groveAsync(r.root, c.json ? ["init", "--json"] : ["init"], c.env))
    )
    results.forEach((result, i) => {
      const c = cases[i]!
      expect(result.exitCode).toBe(2)
      if (c.json) {
        expect(result.json).toMatchObject({ ok: false, error: { code: "invalid_input", details: { variable: c.variable } } })
        expect(result.json.error.message).toContain(c.variable)
      } else {
        expect(result.stderr).toContain(c.variable)
        expect(result.stderr).toContain("[invalid_input]")
      }
    })
    expect(NodeFs.existsSync(NodePath.join(r.root, ".git", "grove"))).toBe(false)
    expect(NodeFs.readdirSync(elsewhere)).toEqual([])
  })
})

describe("concurrency", () => {
  it("separate writer processes lose no write and never see SQLITE_BUSY", async () => {
    const path = NodePath.join(tempDir(), "shared.db")
    await run(Effect.map(Sqlite, ({ db }) => {
      db.run("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
      db.run("INSERT INTO counter (id, n) VALUES (1, 0)")
      db.run("CREATE TABLE items (worker TEXT NOT NULL, i INTEGER NOT NULL, PRIMARY KEY (worker, i))")
    }).pipe(Effect.provide(sqliteAt(path))))
    const script = NodePath.resolve(import.meta.dir, "support", "concurrentWriter.ts")
    const workers = 5
    const perWorker = 30
    const results = await Promise.all(
      Array.from({ length: workers }, async (_, w) => {
        const p = spawn([process.execPath, script, path, `w${w}`, String(perWorker)], {
          stdout: "pipe",
          stderr: "pipe",
          env: childEnv({ GROVE_BUSY_TIMEOUT_MS: "10000" })
        })
        const [stderr, exitCode] = await Promise.all([new Response(p.stderr).text(), p.exited])
        return { exitCode, stderr }
      })
    )
    for (const r of results) {
      expect(r.stderr).not.toMatch(/SQLITE_BUSY|locked/i)
      expect(r.exitCode).toBe(0)
    }
    withDb(path, (db) => {
      expect(db.query("SELECT n FROM counter WHERE id = 1").get()).toEqual({ n: workers * perWorker })
      expect(db.query("SELECT count(*) AS c FROM items").get()).toEqual({ c: workers * perWorker })
      const perWorkerCounts = db.query("SELECT worker, count(*) AS c FROM items GROUP BY worker ORDER BY worker").all()
      expect(perWorkerCounts).toEqual(Array.from({ length: workers }, (_, w) => ({ worker: `w${w}`, c: perWorker })))
    }, { readonly: true })
  }, 20_000)

  it("grove init run at once from the main checkout and several worktrees creates the database exactly once", async () => {
    const r = repo()
    const dirs = [r.root, r.addWorktree("c1"), r.addWorktree("c2")]
    const results = await Promise.all(dirs.map((d) => groveAsync(d, ["init", "--json"])))
    for (const result of results) {
      expect(result.stderr).toBe("")
      expect(result.exitCode).toBe(0)
      expect(result.json.data.database).toBe(r.db)
      expect(result.json.data.schemaVersion).toBe(migrations.length)
    }
    expect(results.filter((x) => x.json.data.created === true)).toHaveLength(1)
  }, 20_000)
})

describe("transactions", () => {
  /** A fresh database with a counter row and a table whose foreign key is checked only at COMMIT. */
  const fresh = (path: string) =>
    run(Effect.map(Sqlite, ({ db }) => db.run(`
      CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL);
      INSERT INTO counter (id, n) VALUES (1, 0);
      CREATE TABLE parent (id INTEGER PRIMARY KEY);
      CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);
    `)).pipe(Effect.provide(sqliteAt(path))))
  const counter = (db: Database) => (db.query("SELECT n FROM counter WHERE id = 1").get() as { n: number }).n

  it("a failing body rolls back what it wrote, keeps its own error, and leaves the connection usable", async () => {
    const path = NodePath.join(tempDir(), "t.db")
    await fresh(path)
    const outcome = await run(Effect.gen(function*() {
      const { db, transaction } = yield* Sqlite
      const failed = yield* Effect.flip(transaction(Effect.zipRight(
        Effect.sync(() => db.run("UPDATE counter SET n = 99 WHERE id = 1")),
        Effect.fail("refused" as const)
      )))
      const afterFailure = { n: counter(db), open: db.inTransaction }
      yield* transaction(Effect.sync(() => db.run("UPDATE counter SET n = n + 1 WHERE id = 1")))
      return { failed, afterFailure, afterCommit: counter(db) }
    }).pipe(Effect.provide(sqliteAt(path))))
    expect(outcome).toEqual({ failed: "refused", afterFailure: { n: 0, open: false }, afterCommit: 1 })
  })

  it("a COMMIT that fails is a database_error, and the transaction is ended with nothing written", async () => {
    const path = NodePath.join(tempDir(), "t.db")
    await fresh(path)
    const outcome = await run(Effect.gen(function*() {
      const { db, transaction } = yield* Sqlite
      // The deferred foreign key passes the INSERT and fails only at COMMIT.
      const failed = yield* Effect.flip(transaction(Effect.sync(() => db.run("INSERT INTO child (id, parent) VALUES (1, 42)"))))
      return { code: failed.code, open: db.inTransaction, children: db.query("SELECT count(*) AS c FROM child").get() }
    }).pipe(Effect.provide(sqliteAt(path))))
    expect(outcome).toEqual({ code: "database_error", open: false, children: { c: 0 } })
  })

  it("fibers sharing one connection take turns: concurrent read-modify-writes lose nothing", async () => {
    const path = NodePath.join(tempDir(), "t.db")
    await fresh(path)
    const n = await run(Effect.gen(function*() {
      const { db, transaction } = yield* Sqlite
      const increment = transaction(Effect.gen(function*() {
        const before = counter(db)
        // Another fiber would run here if transactions did not wait for each other.
        yield* Effect.sleep("1 millis")
        db.query("UPDATE counter SET n = ? WHERE id = 1").run(before + 1)
      }))
      yield* Effect.all(Array.from({ length: 20 }, () => increment), { concurrency: "unbounded" })
      return counter(db)
    }).pipe(Effect.provide(sqliteAt(path))))
    expect(n).toBe(20)
  })

  it("a transaction started inside another dies, and the outer one is rolled back", async () => {
    const path = NodePath.join(tempDir(), "t.db")
    await fresh(path)
    const outcome = await run(Effect.gen(function*() {
      const { db, transaction } = yield* Sqlite
      const exit = yield* Effect.exit(transaction(Effect.zipRight(
        Effect.sync(() => db.run("UPDATE counter SET n = 5 WHERE id = 1")),
        transaction(Effect.void)
      )))
      return { died: Exit.isFailure(exit) && Cause.isDie(exit.cause), n: counter(db), open: db.inTransaction }
    }).pipe(Effect.provide(sqliteAt(path))))
    expect(outcome).toEqual({ died: true, n: 0, open: false })
  })
})

describe("closing", () => {
  it("closing checkpoints the WAL into the main file", async () => {
    const path = NodePath.join(tempDir(), "c.db")
    await run(Effect.map(Sqlite, ({ db }) => db.run("CREATE TABLE items (i INTEGER)")).pipe(Effect.provide(sqliteAt(path))))
    // A second, idle connection keeps the WAL alive, so only grove's close-time checkpoint
    // (not SQLite's last-connection cleanup) can move the new rows into the main file.
    const keeper = new Database(path)
    keeper.query("SELECT count(*) FROM sqlite_master").get() // attach it to the WAL index
    try {
      await run(Effect.gen(function*() {
        const { db, transaction } = yield* Sqlite
        yield* transaction(Effect.sync(() => {
          for (let i = 0; i < 50; i++) db.query("INSERT INTO items (i) VALUES (?)").run(i)
        }))
        // Before close the rows live in the WAL only.
        expect(NodeFs.statSync(`${path}-wal`).size).toBeGreaterThan(0)
      }).pipe(Effect.provide(sqliteAt(path))))
      const copy = `${path}.copy`
      NodeFs.copyFileSync(path, copy) // the main file alone, without its -wal
      const snapshot = new Database(copy)
      try {
        expect(snapshot.query("SELECT count(*) AS c FROM items").get()).toEqual({ c: 50 })
      } finally {
        snapshot.close()
      }
    } finally {
      keeper.close()
    }
  })

  it("a read-only connection reads an existing database, cannot write, and closes without throwing", async () => {
    const path = NodePath.join(tempDir(), "ro.db")
    await run(Effect.map(Sqlite, ({ db }) => db.run("CREATE TABLE t (x INTEGER); INSERT INTO t (x) VALUES (1), (2)")).pipe(Effect.provide(sqliteAt(path))))
    const outcome = await run(Effect.gen(function*() {
      const { db } = yield* Sqlite
      const rows = db.query("SELECT x FROM t ORDER BY x").all()
      const write = yield* Effect.either(trySqlite(() => db.run("INSERT INTO t (x) VALUES (3)")))
      return { rows, writeFailed: write._tag === "Left", journal: pragma(db, "journal_mode") }
    }).pipe(Effect.provide(sqliteAt(path, {}, { readonly: true }))))
    expect(outcome).toEqual({ rows: [{ x: 1 }, { x: 2 }], writeFailed: true, journal: "wal" })
  })

  it("closing does not throw when the database file vanished while open", async () => {
    const dir = tempDir()
    const path = NodePath.join(dir, "gone", "v.db")
    await run(Effect.map(Sqlite, ({ db }) => {
      db.run("CREATE TABLE t (x INTEGER); INSERT INTO t (x) VALUES (1)")
      NodeFs.rmSync(NodePath.dirname(path), { recursive: true, force: true })
    }).pipe(Effect.provide(sqliteAt(path))))
    expect(NodeFs.existsSync(path)).toBe(false)
  })

  it("opening a missing file read-only fails with database_unavailable and creates nothing", async () => {
    const dir = tempDir()
    const path = NodePath.join(dir, "missing.db")
    const error = await flipRun(Effect.asVoid(Sqlite).pipe(Effect.provide(sqliteAt(path, {}, { readonly: true }))))
    expect(error).toMatchObject({ _tag: "DatabaseUnavailable", code: "database_unavailable" })
    expect(error.message).toContain(path)
    expect(NodeFs.readdirSync(dir)).toEqual([])
  })
})
