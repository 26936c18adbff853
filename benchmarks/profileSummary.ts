/**
 * Summarises a CPU profile written by `bun --cpu-prof` (Chrome .cpuprofile):
 * sampled time by package (node_modules/<pkg>, src/<dir>, bun internals), the
 * hottest functions by self time, and, with --inclusive NAME, the inclusive
 * time of functions whose name matches. Used for the evidence in README.md.
 *
 *   bun benchmarks/profileSummary.ts FILE.cpuprofile [--top 25] [--inclusive name,name] [--callers name,name]
 *
 * --callers NAME: the self time of frames named NAME, split by the nearest caller frame in grove's code (src/).
 */
import * as NodeFs from "node:fs"

interface Node {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly children?: ReadonlyArray<number>
}
interface Profile {
  readonly nodes: ReadonlyArray<Node>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
  readonly startTime: number
  readonly endTime: number
}

const [file, ...rest] = process.argv.slice(2)
if (file === undefined) throw new Error("usage: profileSummary.ts FILE.cpuprofile [--top N] [--inclusive a,b]")
const opt = (name: string) => {
  const i = rest.indexOf(name)
  return i === -1 ? undefined : rest[i + 1]
}
const top = Number(opt("--top") ?? 25)
const inclusive = opt("--inclusive")?.split(",") ?? []
const callers = opt("--callers")?.split(",") ?? []

const profile = JSON.parse(NodeFs.readFileSync(file, "utf8")) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

const self = new Map<number, number>()
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000))
const total = [...self.values()].reduce((a, b) => a + b, 0)

const group = (url: string) => {
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (nm) return nm[1]!
  const src = /\/(src|benchmarks|bin)\/([^/]+)/.exec(url)
  if (src) return `${src[1]}/${src[2]}`
  return url === "" ? "(native / idle / gc)" : url.startsWith("node:") || url.startsWith("bun:") ? "bun runtime" : url
}

const tally = (key: (n: Node) => string) => {
  const m = new Map<string, number>()
  for (const [id, ms] of self) {
    const k = key(byId.get(id)!)
    m.set(k, (m.get(k) ?? 0) + ms)
  }
  return [...m.entries()].sort((a, b) => b[1] - a[1])
}

const line = (ms: number, label: string) => `${ms.toFixed(1).padStart(8)} ms ${((ms / total) * 100).toFixed(1).padStart(5)}%  ${label}`
console.log(`${file}\nsampled ${total.toFixed(1)} ms (wall ${(profile.endTime - profile.startTime) / 1000} ms)\n\nself time by package:`)
for (const [k, ms] of tally((n) => group(n.callFrame.url)).slice(0, top)) console.log(line(ms, k))
console.log("\nhottest functions (self):")
for (const [k, ms] of tally((n) => `${n.callFrame.functionName || "(anonymous)"}  ${n.callFrame.url.replace(/.*node_modules\//, "")}:${n.callFrame.lineNumber + 1}`).slice(0, top)) {
  console.log(line(ms, k))
}
for (const name of inclusive) {
  // Inclusive time: samples whose stack contains a frame with this name (counted once per sample).
  let ms = 0
  profile.samples.forEach((id, i) => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      if (byId.get(at)!.callFrame.functionName === name) {
        ms += (profile.timeDeltas[i] ?? 0) / 1000
        break
      }
    }
  })
  console.log(`\ninclusive ${name}: ${line(ms, "")}`)
}

const frameLabel = (n: Node) => `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.replace(/.*\/(src|node_modules)\//, "$1/")}:${n.callFrame.lineNumber + 1}`
for (const name of callers) {
  const m = new Map<string, number>()
  for (const [id, ms] of self) {
    if (byId.get(id)!.callFrame.functionName !== name) continue
    let at = parent.get(id)
    while (at !== undefined && !/\/src\//.test(byId.get(at)!.callFrame.url)) at = parent.get(at)
    const k = at === undefined ? "(no src frame)" : frameLabel(byId.get(at)!)
    m.set(k, (m.get(k) ?? 0) + ms)
  }
  console.log(`\nself time of ${name}, by nearest src/ caller:`)
  for (const [k, ms] of [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(line(ms, k))
}
