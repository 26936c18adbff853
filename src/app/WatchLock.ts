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
 * When a process started (clock ticks since boot, /proc/<pid>/stat field 22),
 * or undefined where /proc is not there. A pid is reused by unrelated
 * processes; a pid with the same start time is the same process.
 */
export const startTimeOf = (pid: number): string | undefined => {
  try {
    const stat = NodeFs.readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]
  } catch {
    return undefined
  }
}

/** The lock file's name in a worktree's git dir. */
export const watchLockName = "grove-watch.lock"

/** The lock's text: the holder's pid and start time. */
const lockText = () => `${process.pid} ${startTimeOf(process.pid) ?? "-"}\n`

/**
 * Is the lock's holder the watcher that wrote it? Alive is not enough: after a
 * crash or reboot its pid may belong to any process. With /proc, the holder's
 * start time must match the one recorded (a lock without one must name a
 * process running `watch`); without /proc, liveness is all there is.
 */
const holds = (pid: number, started: string | undefined) => {
  if (!alive(pid)) return false
  const now = startTimeOf(pid)
  if (now === undefined) return true
  if (started !== undefined && started !== "-") return now === started
  try {
    return NodeFs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes("watch")
  } catch {
    return false
  }
}

/** A lock file whose holder is gone (a killed watcher, or a pid reused by another process). */
export const isStaleLock = (path: string): boolean => {
  let content: string
  try {
    content = NodeFs.readFileSync(path, "utf8")
  } catch {
    return false
  }
  const [pidText, started] = content.trim().split(" ")
  const holder = Number(pidText)
  return !(Number.isInteger(holder) && holder > 0 && holds(holder, started))
}

/**
 * One watcher per worktree: a lock file holding the watcher's pid and start
 * time, created exclusively. A lock whose holder is no longer running (a
 * killed watcher, or a pid now reused by another process) is taken over.
 * Released when the scope closes.
 */
export const acquireWatchLock = (path: string) =>
  Effect.acquireRelease(
    Effect.suspend(() => {
      let staleHolder: number | undefined
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          NodeFs.writeFileSync(path, lockText(), { flag: "wx" })
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
        const [pidText, started] = content.trim().split(" ")
        const holder = Number(pidText)
        if (Number.isInteger(holder) && holder > 0 && holds(holder, started)) {
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
          if (NodeFs.readFileSync(path, "utf8") === lockText()) NodeFs.rmSync(path, { force: true })
        } catch {
          // already gone
        }
      })
  )
