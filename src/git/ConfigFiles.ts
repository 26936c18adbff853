import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { systemConfigFile } from "./SystemConfigFile.ts"

/**
 * One plain config value (`user.email`, `init.defaultBranch`) read from the
 * files git would read, instead of spawning `git config` (a process start
 * costs more than a whole one-row write: docs/decisions.md, "Start-up").
 *
 * Git reads the system file, the user's global files
 * (`$XDG_CONFIG_HOME/git/config`, then `~/.gitconfig`; GIT_CONFIG_GLOBAL
 * replaces them) and the repository's own `config`, the last one winning.
 * The system file is read only when the others do not set the value, and
 * only where its place is known (./SystemConfigFile.ts). A value set in none
 * of them is "", what `git config` prints.
 *
 * Anything else returns undefined and the caller asks git itself: the system
 * file's place unknown, `GIT_CONFIG_COUNT`/`GIT_CONFIG_PARAMETERS` and the
 * like, no HOME, a file that exists but cannot be read, an `[include]` or
 * `[includeIf]` in a file read, per-worktree config, and any line this
 * reader does not understand exactly (quotes, escapes, continued lines,
 * inline comments, old-style `[section.sub]` headers).
 */
export const readConfigValue = (
  commonDir: string,
  section: string,
  key: string,
  env: Readonly<Record<string, string | undefined>> = process.env
): string | undefined => {
  if (Object.keys(env).some((name) => name.startsWith("GIT_CONFIG") && !systemOrGlobal.includes(name))) return undefined
  const globalFiles = globalFilesOf(env)
  if (globalFiles === undefined) return undefined
  const lastIn = (files: ReadonlyArray<string>): string | undefined | false => {
    let value: string | undefined
    for (const path of files) {
      const text = readIfPresent(path)
      if (text === false) return false
      if (text === undefined) continue
      const found = valueIn(text, section.toLowerCase(), key.toLowerCase())
      if (found === false) return false
      if (found !== undefined) value = found
    }
    return value
  }
  const set = lastIn([...globalFiles, NodePath.join(commonDir, "config")])
  if (set === false) return undefined
  if (set !== undefined) return set
  const system = systemConfigFile(commonDir, env)
  if (system === undefined) return undefined
  const inSystem = system === null ? undefined : lastIn([system])
  return inSystem === false ? undefined : inSystem ?? ""
}

/** Variables about the system file, which ./SystemConfigFile.ts reads, and the global one, read below. */
const systemOrGlobal = ["GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM"]

/** GIT_CONFIG_GLOBAL alone when set (absolute paths only), else the XDG file then ~/.gitconfig; undefined: ask git. */
const globalFilesOf = (env: Readonly<Record<string, string | undefined>>): ReadonlyArray<string> | undefined => {
  const chosen = env["GIT_CONFIG_GLOBAL"]
  if (chosen !== undefined) return NodePath.isAbsolute(chosen) ? [chosen] : undefined
  const home = env["HOME"]
  if (!home) return undefined
  const xdg = env["XDG_CONFIG_HOME"] ? NodePath.join(env["XDG_CONFIG_HOME"], "git", "config") : NodePath.join(home, ".config", "git", "config")
  return [xdg, NodePath.join(home, ".gitconfig")]
}

/** The file's text; undefined when it does not exist (git skips it); false when it cannot be read (git would complain). */
const readIfPresent = (path: string): string | undefined | false => {
  try {
    return NodeFs.readFileSync(path, "utf8")
  } catch (cause) {
    return (cause as NodeJS.ErrnoException).code === "ENOENT" ? undefined : false
  }
}

const header = /^\[([A-Za-z0-9-]+)(?: "([^"\\]*)")?\]$/
const entry = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$/
/** A value that means itself: no quotes, escapes or comments, so git prints it as written, trimmed. */
const plainValue = /^[^"\\#;]*$/

/** The last value of `section.key` in one file's text; undefined when absent; false when git must read the file. */
const valueIn = (text: string, section: string, key: string): string | undefined | false => {
  let inSection = false
  let value: string | undefined
  for (const raw of text.split("\n")) {
    const line = raw.trim()
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue
    if (line.startsWith("[")) {
      const h = header.exec(line)
      if (h === null) return false
      const name = h[1]!.toLowerCase()
      if (name === "include" || name === "includeif") return false
      inSection = name === section && h[2] === undefined
      continue
    }
    const e = entry.exec(line)
    if (e === null) return false
    const setting = e[2]
    // A value continued on the next line (trailing backslash) would make the next line part of it.
    if (setting !== undefined && setting.endsWith("\\")) return false
    // extensions.worktreeConfig adds a per-worktree file.
    if (name(e) === "worktreeconfig") return false
    if (!inSection || name(e) !== key) continue
    if (setting === undefined || !plainValue.test(setting)) return false
    // Git trims an unquoted value and turns each inner blank into a space.
    value = setting.replace(/^[ \t\v\f\r]+|[ \t\v\f\r]+$/g, "").replace(/[\t\v\f\r]/g, " ")
  }
  return value
}

const name = (e: RegExpExecArray) => e[1]!.toLowerCase()
