/**
 * Starts the real `grove board` command as its own process and reads the URL
 * it prints first: the board tests talk to it over HTTP (API tests) or drive a
 * real Chromium against it (browser tests).
 */
import { spawn } from "bun"
import * as NodePath from "node:path"
import { Effect } from "effect"
import { Sync } from "../../src/sync/Sync.ts"
import { Tracker } from "../../src/tracker/Tracker.ts"
import { git } from "./repo.ts"
import { inWorktree } from "./effect.ts"

const entry = NodePath.resolve(import.meta.dir, "../../src/main.ts")

export interface Board {
  readonly url: string
  readonly origin: string
  readonly token: string
  readonly port: number
  /** Stops this board process (by its own pid). */
  readonly stop: () => Promise<void>
}

/** `from`: another grove entry point than the sources (a built bundle). */
export const startBoard = async (cwd: string, env: Record<string, string> = {}, args: ReadonlyArray<string> = [], from = entry): Promise<Board> => {
  const child = spawn([process.execPath, from, "board", ...args], {
    cwd,
    env: { ...process.env, ...env } as Record<string, string>,
    stdout: "pipe",
    stderr: "pipe"
  })
  const reader = child.stdout.getReader()
  let text = ""
  while (!text.includes("\n")) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`grove board exited before printing its URL: ${await new Response(child.stderr).text()}`)
    text += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  const url = text.split("\n")[0]!
  const parsed = new URL(url)
  return {
    url,
    origin: parsed.origin,
    token: parsed.searchParams.get("token")!,
    port: Number(parsed.port),
    stop: async () => {
      child.kill()
      await child.exited
    }
  }
}

/**
 * A pending title conflict in the main worktree's scope: `feat` and `main`
 * retitle the same task concurrently, then main pulls feat (in-process, one
 * withTracker call per command).
 */
export const makeTitleConflict = async (root: string, feat: string, taskId: string) => {
  const retitle = (cwd: string, title: string) => inWorktree(cwd, Effect.flatMap(Tracker, (t) => t.update("task", taskId, { title })))
  await inWorktree(feat, Effect.flatMap(Sync, (s) => s.pull("main")))
  await retitle(feat, "title from feat")
  await retitle(root, "title from main")
  await inWorktree(root, Effect.flatMap(Sync, (s) => s.pull(git(feat, "rev-parse", "--abbrev-ref", "HEAD"))))
}
