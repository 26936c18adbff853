import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { groveDirectory } from "./Discover.ts"

/**
 * Where git reads its system config file. Its place is fixed when git is
 * built (`/etc/gitconfig` for a git in /usr, `<prefix>/etc/gitconfig`
 * otherwise), so it is learnt once from git itself and remembered under
 * `<common dir>/grove/`, keyed by the git binary on PATH (its real path, size
 * and modification time): a config value set in no file then needs no
 * `git config` process (docs/decisions.md, "Start-up").
 *
 * Returns the path (whether or not the file exists), null when git reads no
 * system file (GIT_CONFIG_NOSYSTEM), or undefined when it cannot be told, and
 * the caller asks git.
 */
export const systemConfigFile = (
  commonDir: string,
  env: Readonly<Record<string, string | undefined>>
): string | null | undefined => {
  const noSystem = env["GIT_CONFIG_NOSYSTEM"]
  if (noSystem !== undefined) {
    const flag = noSystem.trim().toLowerCase()
    if (["1", "true", "yes", "on"].includes(flag)) return null
    if (!["", "0", "false", "no", "off"].includes(flag)) return undefined
  }
  const chosen = env["GIT_CONFIG_SYSTEM"]
  if (chosen !== undefined) return NodePath.isAbsolute(chosen) ? chosen : undefined
  const binary = gitBinary(env)
  if (binary === undefined) return undefined
  const memoPath = NodePath.join(groveDirectory(commonDir), "git-system-config.json")
  const remembered = readMemo(memoPath)
  if (remembered !== undefined && sameBinary(remembered, binary)) return remembered.file
  const learnt = learn(commonDir, env)
  if (learnt !== undefined) writeMemo(memoPath, { ...binary, file: learnt })
  return learnt
}

interface Binary {
  readonly git: string
  readonly size: number
  readonly mtimeMs: number
}

interface Memo extends Binary {
  readonly file: string
}

/** The git a spawn of "git" runs (the first on PATH), by real path, size and modification time. */
const gitBinary = (env: Readonly<Record<string, string | undefined>>): Binary | undefined => {
  try {
    const found = Bun.which("git", { PATH: env["PATH"] ?? "" })
    if (found === null) return undefined
    const git = NodeFs.realpathSync(found)
    const stat = NodeFs.statSync(git)
    return { git, size: stat.size, mtimeMs: stat.mtimeMs }
  } catch {
    return undefined
  }
}

const sameBinary = (a: Binary, b: Binary) => a.git === b.git && a.size === b.size && a.mtimeMs === b.mtimeMs

/**
 * `git config --system --edit` opens the system file's path in the editor;
 * with `echo` as the editor it prints the path and changes nothing (unlike
 * `--global --edit`, it never creates the file). Older and newer gits alike
 * answer this; `git var GIT_CONFIG_SYSTEM` needs git 2.42. It runs in the
 * repository, as every git grove starts does, so a PATH shim that picks git
 * by directory picks the same one; GIT_EDITOR outranks any configured editor.
 * Spawned here rather than through the Git service: it needs its own
 * environment, and runs inside a plain read of config files.
 */
const learn = (cwd: string, env: Readonly<Record<string, string | undefined>>): string | undefined => {
  try {
    const r = Bun.spawnSync(["git", "config", "--system", "--edit"], {
      cwd,
      env: { ...env, GIT_EDITOR: "echo" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe"
    })
    const file = r.stdout.toString().replace(/\n$/, "")
    return r.exitCode === 0 && NodePath.isAbsolute(file) && !file.includes("\n") ? file : undefined
  } catch {
    return undefined
  }
}

const readMemo = (path: string): Memo | undefined => {
  try {
    const m = JSON.parse(NodeFs.readFileSync(path, "utf8")) as Partial<Memo>
    return typeof m.git === "string" && typeof m.size === "number" && typeof m.mtimeMs === "number" && typeof m.file === "string"
      ? { git: m.git, size: m.size, mtimeMs: m.mtimeMs, file: m.file }
      : undefined
  } catch {
    return undefined
  }
}

/** Written whole and renamed into place, so a reader never sees half; skipped where grove keeps no directory (a read elsewhere, a read-only repository). */
const writeMemo = (path: string, memo: Memo) => {
  if (!NodeFs.existsSync(NodePath.dirname(path))) return
  const partial = `${path}.${process.pid}`
  try {
    NodeFs.writeFileSync(partial, JSON.stringify(memo))
    NodeFs.renameSync(partial, path)
  } catch {
    try {
      NodeFs.rmSync(partial, { force: true })
    } catch {
      // nothing more to do: the next command learns the place again
    }
  }
}
