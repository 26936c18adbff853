import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { baseHeaders } from "./Http.ts"

/**
 * The page's files: src/board/ui, whether grove runs from its sources or from
 * the bundle in dist/ (which keeps the sources beside it).
 */
const uiDir = [NodePath.join(import.meta.dir, "ui"), NodePath.join(import.meta.dir, "..", "src", "board", "ui")]
  .find((dir) => NodeFs.existsSync(NodePath.join(dir, "app.js")))

export type Asset = { readonly body: string | Uint8Array; readonly type: string }

/**
 * Bundles the front end (the app with preact and htm from node_modules) in
 * memory once, when the board starts: the page loads one script and nothing
 * from the network.
 */
export const buildAssets = async (): Promise<ReadonlyMap<string, Asset>> => {
  if (uiDir === undefined) throw new Error("grove board: the page's files (src/board/ui) are missing from this installation")
  const built = await Bun.build({ entrypoints: [NodePath.join(uiDir, "app.js")], target: "browser", minify: true })
  if (!built.success) throw new Error(`grove board: bundling the page failed: ${built.logs.map(String).join("\n")}`)
  const read = (name: string) => NodeFs.readFileSync(NodePath.join(uiDir, name), "utf8")
  return new Map<string, Asset>([
    ["/", { body: read("index.html"), type: "text/html; charset=utf-8" }],
    ["/assets/app.js", { body: await built.outputs[0]!.text(), type: "text/javascript; charset=utf-8" }],
    ["/assets/style.css", { body: read("style.css"), type: "text/css; charset=utf-8" }]
  ])
}

export const serveAsset = (asset: Asset) => new Response(asset.body, { headers: { ...baseHeaders, "content-type": asset.type } })
