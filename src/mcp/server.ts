/**
 * An MCP server offering the tools of tools.ts over whatever transport it is connected to (Streamable HTTP at /mcp,
 * stdio for `harmonia mcp`). It is the SDK's low-level Server rather than McpServer because the tools' schemas are
 * JSON Schema made from valibot, not zod.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js'
import { HarmoniaApiError } from '../client/errors.js'
import type { Transport as ApiTransport } from '../client/transport.js'
import { jsonSchemaOf } from '../http/json-schema.js'
import { ValidationError } from '../errors.js'
import { toProblem } from '../http/problem.js'
import { parseWith } from '../model/parse.js'
import { VERSION } from '../version.js'
import { TOOLS, type McpTool } from './tools.js'

/** How a tool reaches the API: the client's transport (its `request`). */
export type ToolApi = Pick<ApiTransport, 'request'>

/** The tool list as MCP announces it, converted once. */
let listed: Tool[] | undefined
const toolList = (): Tool[] =>
  (listed ??= TOOLS.map((tool) => ({
    name: tool.name,
    description: tool.description,
    inputSchema: jsonSchemaOf(tool.input) as Tool['inputSchema'],
  })))

const byName = new Map<string, McpTool>(TOOLS.map((tool) => [tool.name, tool]))

const text = (value: unknown, isError = false): CallToolResult => ({
  content: [{ type: 'text', text: value === undefined ? '{"ok":true}' : JSON.stringify(value, null, 2) }],
  ...(isError ? { isError: true } : {}),
})

/**
 * Runs one tool: its arguments are checked against its schema (the 422 problem naming the field that the route would
 * answer), then its request is made. An unknown tool is a protocol error (MCP: invalid params). API refusals come back as tool errors carrying the problem+json, so the agent can read why.
 */
export async function callTool(api: ToolApi, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  const tool = byName.get(name)
  if (!tool) throw new McpError(ErrorCode.InvalidParams, `no tool named "${name}"`)
  try {
    parseWith(tool.input, args)
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error
    return text(toProblem(error), true)
  }
  const request = tool.request(args)
  try {
    const result = await api.request(request.method, request.path, {
      ...(request.query ? { query: request.query } : {}),
      ...(request.body !== undefined ? { body: request.body } : {}),
    })
    return text(result)
  } catch (error) {
    if (error instanceof HarmoniaApiError) return text(error.problem, true)
    throw error
  }
}

/** A server with the tools, not yet connected. One per connection (stdio) or per request (stateless HTTP). */
export function createMcpServer(api: ToolApi): Server {
  const server = new Server({ name: 'harmonia', version: VERSION }, { capabilities: { tools: {} } })
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: toolList() }))
  server.setRequestHandler(CallToolRequestSchema, (request) => callTool(api, request.params.name, request.params.arguments ?? {}))
  return server
}
