/**
 * Starts the real `grove board` command as its own process and reads the URL
 * it prints first: the board tests talk to it over HTTP (API tests) or drive a
 * real Chromium against it (browser tests).
 */
import { spawn } from "bun"
import * as NodePath from "node:path"
import { git } from "./repo.ts"

const entry = NodePath.resolve(import.meta.dir, "../../src/main.ts")

export interface Board {
  readonly url: string
  readonly origin: string
  readonly token: string
  readonly port: number
  /** Stops this board process (by its own pid). */
  readonly stop: () => Promise<void>
}

export const startBoard = async (cwd: string, env: Record<string, string> = {}, args: ReadonlyArray<string> = []): Promise<Board> => {
  const child = spawn([process.execPath, entry, "board", ...args], {
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
 * retitle the same task concurrently, then main pulls feat.
 */
export const makeTitleConflict = (
  grove: (cwd: string, args: ReadonlyArray<string>) => { json: any; exitCode: number },
  root: string,
  feat: string,
  taskId: string
) => {
  for (const [cwd, args] of [
    [feat, ["sync", "pull", "--from", "main"]],
    [feat, ["task", "update", taskId, "--title", "title from feat"]],
    [root, ["task", "update", taskId, "--title", "title from main"]],
    [root, ["sync", "pull", "--from", git(feat, "rev-parse", "--abbrev-ref", "HEAD")]]
  ] as const) {
    const r = grove(cwd, [...args, "--json"])
    if (r.exitCode !== 0) throw new Error(`grove ${args.join(" ")} failed: ${JSON.stringify(r.json)}`)
  }
}
