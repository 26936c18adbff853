/** Runs the real `grove` CLI as a separate process (end-to-end tests), in the neutral environment of env.ts. */
import { spawn, spawnSync } from "bun"
import * as NodePath from "node:path"
import { childEnv, type EnvPatch } from "./env.ts"

/** The CLI's entry point, run from source. */
export const groveEntry = NodePath.resolve(import.meta.dir, "../../src/main.ts")

/** The argv that runs `grove ARGS` from source with the current Bun. */
export const groveArgv = (args: ReadonlyArray<string>): Array<string> => [process.execPath, groveEntry, ...args]

export interface CliResult {
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
  /** The parsed envelope when --json was given. */
  readonly json: any
}

const parse = (stdout: string) => {
  try {
    return JSON.parse(stdout)
  } catch {
    return undefined
  }
}

/** Runs `grove ARGS` in `cwd` and waits for it; `env` patches the neutral environment. */
export const grove = (cwd: string, args: ReadonlyArray<string>, options: { env?: EnvPatch; stdin?: string } = {}): CliResult => {
  const r = spawnSync(groveArgv(args), {
    cwd,
    env: childEnv(options.env),
    stdin: options.stdin === undefined ? "ignore" : Buffer.from(options.stdin)
  })
  const stdout = r.stdout.toString()
  return { exitCode: r.exitCode ?? -1, stdout, stderr: r.stderr.toString(), json: parse(stdout) }
}

/** Starts the CLI without blocking this process, for races between processes and for tests that run concurrently. */
export const groveAsync = async (cwd: string, args: ReadonlyArray<string>, env: EnvPatch = {}): Promise<CliResult> => {
  const p = spawn(groveArgv(args), { cwd, env: childEnv(env), stdout: "pipe", stderr: "pipe" })
  const [stdout, stderr, exitCode] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
  return { exitCode, stdout, stderr, json: parse(stdout) }
}
