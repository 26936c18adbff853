import { Effect } from "effect"
import * as NodeFs from "node:fs"
import { GroveError } from "../errors/index.ts"

export class WatchLocked extends GroveError("WatchLocked", "watch_locked") {}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

/**
 * One watcher per worktree: a lock file holding the watcher's pid, created
 * exclusively. A lock whose pid is no longer running (a killed watcher) is
 * taken over. Released when the scope closes.
 */
export const acquireWatchLock = (path: string) =>
  Effect.acquireRelease(
    Effect.suspend(() => {
      let staleHolder: number | undefined
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          NodeFs.writeFileSync(path, `${process.pid}\n`, { flag: "wx" })
          return Effect.succeed({ path, tookOverFrom: attempt === 0 ? undefined : staleHolder })
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
            return Effect.fail(new WatchLocked({ message: `cannot create the watch lock ${path}: ${String(e)}`, details: { path } }))
          }
        }
        let content: string
        try {
          content = NodeFs.readFileSync(path, "utf8")
        } catch {
          continue // the holder let go between our create and this read: try to create again
        }
        const holder = Number(content.trim())
        if (Number.isInteger(holder) && holder > 0 && alive(holder)) {
          return Effect.fail(
            new WatchLocked({
              message: `another grove sync watch (pid ${holder}) already watches this worktree`,
              details: { pid: holder, lock: path }
            })
          )
        }
        staleHolder = Number.isInteger(holder) ? holder : undefined
        NodeFs.rmSync(path, { force: true })
      }
      return Effect.fail(new WatchLocked({ message: `could not take the watch lock ${path}`, details: { path } }))
    }),
    ({ path }) =>
      Effect.sync(() => {
        try {
          if (NodeFs.readFileSync(path, "utf8").trim() === String(process.pid)) NodeFs.rmSync(path, { force: true })
        } catch {
          // already gone
        }
      })
  )
