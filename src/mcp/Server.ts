import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js"
import {
  CallToolRequestSchema,
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema
} from "@modelcontextprotocol/sdk/types.js"
import { Effect, Either, Exit, JSONSchema, ManagedRuntime, Schema } from "effect"
import { trackerLayer } from "../app/AppLayer.ts"
import { actorFrom } from "../app/Config.ts"
import { formatParseError } from "../events/operations.ts"
import { GitContext } from "../events/GitContext.ts"
import { Migrator } from "../migrations/Migrator.ts"
import { Sqlite } from "../storage/Sqlite.ts"
import { watchDataVersion } from "./notifications.ts"
import { readResource, resources, templates } from "./resources.ts"
import { failure, failureOf, success } from "./results.ts"
import { tools } from "./tools.ts"

/** How often the server looks for commits by other processes (one PRAGMA per tick). */
const pollMs = 250

/** A tool's input Schema as the JSON Schema MCP publishes (the `$schema` line is noise to clients). */
const inputSchemaOf = (schema: Schema.Schema<any, any>) => {
  const { $schema: _, ...json } = JSONSchema.make(schema) as unknown as Record<string, unknown>
  return json as { type: "object"; [key: string]: unknown }
}

/**
 * `grove mcp`: the agent loop over the Model Context Protocol on stdio. The
 * services are built once for the warm server, on the worktree it runs in;
 * events are stamped with that worktree and HEAD as they are when each write
 * happens. Resolves when the client closes the connection.
 */
export const serve = async (cwd: string, version: string) => {
  const server = new Server(
    { name: "grove", version },
    { capabilities: { tools: {}, resources: { subscribe: true, listChanged: true } } }
  )
  const runtime = ManagedRuntime.make(trackerLayer(cwd, GitContext.live(actorFrom(process.env), () => server.getClientVersion()?.name)))
  // Fail before the handshake when the worktree has no usable database: the client sees the process exit with the reason on stderr.
  const opened = await runtime.runPromiseExit(Effect.zipRight(Effect.flatMap(Migrator, (m) => m.ensureCurrent), Effect.map(Sqlite, (s) => s.db)))
  if (Exit.isFailure(opened)) {
    const f = failureOf(opened)!
    await runtime.dispose()
    throw new Error(`${f.message} [${f.code}]`)
  }
  const db = opened.value

  const listed = tools.map((t) => ({ name: t.name, description: t.description, inputSchema: inputSchemaOf(t.input) }))
  const byName = new Map(tools.map((t) => [t.name, t]))
  const subscribed = new Set<string>()
  const announce = () => {
    if (!connected) return
    void server.sendResourceListChanged().catch(() => {})
    for (const uri of subscribed) void server.sendResourceUpdated({ uri }).catch(() => {})
  }
  let connected = false

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: listed }))
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const name = request.params.name
    const tool = byName.get(name)
    if (tool === undefined) {
      return failure(name, { code: "unknown_tool", message: `no grove tool named ${name} (tools/list names them)`, details: { tool: name } })
    }
    const input = Schema.decodeUnknownEither(tool.input, { onExcessProperty: "error" })(request.params.arguments ?? {})
    if (Either.isLeft(input)) {
      return failure(name, { code: "invalid_input", message: `invalid arguments for ${name}: ${formatParseError(input.left)}`, details: { tool: name } })
    }
    const exit = await runtime.runPromiseExit(tool.run(input.right))
    if (tool.writes) announce()
    return Exit.isSuccess(exit) ? success(name, exit.value) : failure(name, failureOf(exit)!)
  })

  server.setRequestHandler(ListResourcesRequestSchema, () => ({ resources: [...resources] }))
  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({ resourceTemplates: [...templates] }))
  server.setRequestHandler(ReadResourceRequestSchema, async (request) => {
    const uri = request.params.uri
    const exit = await runtime.runPromiseExit(readResource(uri))
    if (Exit.isFailure(exit)) {
      const f = failureOf(exit)!
      throw new McpError(f.code === "not_found" ? ErrorCode.InvalidParams : ErrorCode.InternalError, f.message, { code: f.code, details: f.details ?? {} })
    }
    return { contents: [{ uri, mimeType: "application/json", text: JSON.stringify(exit.value) }] }
  })
  server.setRequestHandler(SubscribeRequestSchema, (request) => {
    subscribed.add(request.params.uri)
    return {}
  })
  server.setRequestHandler(UnsubscribeRequestSchema, (request) => {
    subscribed.delete(request.params.uri)
    return {}
  })

  const stop = watchDataVersion(db, pollMs, announce)
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve()
  })
  await server.connect(new StdioServerTransport())
  connected = true
  // stdin ending means the client went away.
  process.stdin.once("end", () => void server.close())
  await closed
  connected = false
  stop()
  await runtime.dispose()
}
