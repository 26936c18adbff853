import { spawn, spawnSync } from "bun"
import * as NodePath from "node:path"

const entry = NodePath.resolve(import.meta.dir, "../../src/main.ts")

export interface CliResult {
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
  /** The parsed envelope when --json was given. */
  readonly json: any
}

const cleanEnv = (env: Record<string, string | undefined>) => {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) out[k] = v
  return out
}

const parse = (stdout: string) => {
  try {
    return JSON.parse(stdout)
  } catch {
    return undefined
  }
}

/** Runs the real `grove` CLI as a separate process (end-to-end tests only). */
export const grove = (cwd: string, args: ReadonlyArray<string>, options: { env?: Record<string, string | undefined>; stdin?: string } = {}): CliResult => {
  const r = spawnSync([process.execPath, entry, ...args], {
    cwd,
    env: cleanEnv(options.env ?? {}),
    stdin: options.stdin === undefined ? "ignore" : Buffer.from(options.stdin)
  })
  const stdout = r.stdout.toString()
  return { exitCode: r.exitCode ?? -1, stdout, stderr: r.stderr.toString(), json: parse(stdout) }
}

/** Starts the CLI without waiting, for races between processes. */
export const groveAsync = async (cwd: string, args: ReadonlyArray<string>, env: Record<string, string | undefined> = {}): Promise<CliResult> => {
  const p = spawn([process.execPath, entry, ...args], { cwd, env: cleanEnv(env), stdout: "pipe", stderr: "pipe" })
  const [stdout, stderr, exitCode] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
  return { exitCode, stdout, stderr, json: parse(stdout) }
}
