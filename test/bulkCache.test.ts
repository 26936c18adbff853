import { Database } from "bun:sqlite"
import * as NodePath from "node:path"
import { describe, expect, it } from "bun:test"
import { withBulkCache } from "../src/storage/bulkCache.ts"
import { makeTempDir, removeTempDir } from "./support/index.ts"

const cacheSize = (db: Database) => (db.query("PRAGMA cache_size").get() as { cache_size: number }).cache_size

describe("a bulk pass's page cache", () => {
  it("holds the whole database while the pass runs, and is back to the configured size after it, also when it throws", () => {
    const dir = makeTempDir("bulk-cache")
    const db = new Database(NodePath.join(dir, "grove.db"))
    try {
      db.run("CREATE TABLE t (x TEXT)")
      const insert = db.prepare("INSERT INTO t (x) VALUES (?)")
      db.transaction(() => {
        for (let i = 0; i < 2_000; i++) insert.run("x".repeat(1_000))
      })()
      db.run("PRAGMA cache_size = -100")
      const bytes = (db.query("SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()").get() as { n: number }).n
      expect(bytes).toBeGreaterThan(100 * 1024)

      const during = withBulkCache(db, () => cacheSize(db))
      expect({ during, after: cacheSize(db) }).toEqual({ during: -Math.ceil(bytes / 1024), after: -100 })

      expect(() => withBulkCache(db, () => { throw new Error("the pass failed") })).toThrow("the pass failed")
      expect(cacheSize(db)).toBe(-100)

      // A configured cache already larger than the database is left alone.
      db.run("PRAGMA cache_size = -1000000")
      expect(withBulkCache(db, () => cacheSize(db))).toBe(-1000000)
    } finally {
      db.close()
      removeTempDir(dir)
    }
  })
})
