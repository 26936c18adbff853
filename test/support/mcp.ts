import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { groveArgv } from "./cli.ts"
import { childEnv, type EnvPatch } from "./env.ts"

/**
 * A real MCP client connected over stdio to `grove mcp` spawned in `cwd` (the SDK's own Client and transport);
 * `entry`: another grove entry point than the sources (a built bundle).
 */
export const connect = async (cwd: string, options: { readonly name?: string; readonly env?: EnvPatch; readonly entry?: string } = {}) => {
  const [command, ...args] = options.entry === undefined ? groveArgv(["mcp"]) : [process.execPath, options.entry, "mcp"]
  const transport = new StdioClientTransport({ command: command!, args, cwd, env: childEnv(options.env), stderr: "pipe" })
  let stderr = ""
  transport.stderr?.on("data", (chunk: Buffer) => void (stderr += chunk.toString()))
  const client = new Client({ name: options.name ?? "grove-test-agent", version: "1.0.0" })
  try {
    await client.connect(transport)
  } catch (error) {
    throw new Error(`grove mcp did not start in ${cwd}: ${String(error)}; stderr: ${stderr}`)
  }
  /** Calls a tool and returns its structured content ({ok, command, data} or {ok: false, command, error}). */
  const call = async (name: string, args: Record<string, unknown> = {}): Promise<any> => {
    const r = await client.callTool({ name, arguments: args })
    return r.structuredContent
  }
  /** Calls a tool that must succeed and returns its data. */
  const data = async (name: string, args: Record<string, unknown> = {}): Promise<any> => {
    const r = await call(name, args)
    if (r?.ok !== true) throw new Error(`${name} ${JSON.stringify(args)} was expected to succeed, got ${JSON.stringify(r)}`)
    return r.data
  }
  return { client, call, data, close: () => client.close(), stderr: () => stderr }
}

export type McpSession = Awaited<ReturnType<typeof connect>>
