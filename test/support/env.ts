/**
 * The environment tests and benchmarks run grove in: nothing from the
 * developer's shell or git configuration leaks in. One list of the variables
 * grove reads; spawned processes and in-process runs both start from it.
 */

/** Every environment variable grove reads. */
export const groveVariables = [
  "GROVE_DB",
  "GROVE_ACTOR",
  "GROVE_PULL_BATCH",
  "GROVE_SQLITE_DURABILITY",
  "GROVE_SQLITE_CACHE_MIB",
  "GROVE_BUSY_TIMEOUT_MS",
  "GROVE_DEBUG"
] as const

/** Set by git for its hooks: inherited, they would point grove's git and the tests' git at the outer repository. */
const gitHookVariables = ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR"] as const

/** Would change what the CLI prints. */
const outputVariables = ["NO_COLOR"] as const

export type EnvPatch = Readonly<Record<string, string | undefined>>

/**
 * What every test process sees on top of its parent's environment: none of
 * grove's variables, no hook or colour variables, and no global or system git config
 * (init.defaultBranch, user.email, commit.gpgsign...), so only the test
 * repositories' own config counts.
 */
export const neutralEnv: EnvPatch = {
  ...Object.fromEntries([...groveVariables, ...gitHookVariables, ...outputVariables].map((k) => [k, undefined])),
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1"
}

/** The environment for a child process: the current one, made neutral, then `patch` (undefined unsets). */
export const childEnv = (patch: EnvPatch = {}): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, ...neutralEnv, ...patch })) if (v !== undefined) out[k] = v
  return out
}

/** Applies `patch` to process.env (undefined unsets) and returns a function that puts the previous values back. */
export const patchEnv = (patch: EnvPatch): (() => void) => {
  const saved = Object.fromEntries(Object.keys(patch).map((k) => [k, process.env[k]]))
  const apply = (values: EnvPatch) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
  apply(patch)
  return () => apply(saved)
}

/** Makes this process's own environment neutral (for in-process grove services); returns the restore function. */
export const neutralizeEnv = (): (() => void) => patchEnv(neutralEnv)

/** Runs `f` with `patch` applied to process.env, then restores the previous values. */
export const withEnv = async <A>(patch: EnvPatch, f: () => Promise<A>): Promise<A> => {
  const restore = patchEnv(patch)
  try {
    return await f()
  } finally {
    restore()
  }
}
