import { Hono } from 'hono'
import { createTransport } from '../client/transport.js'

/** The origin the tools' requests are addressed to: they never leave the process (see mcpRoutes). */
const IN_PROCESS = 'http://harmonia.in-process'

/** The app's own fetch: a request answered in-process, with the connection (env) of the request that caused it. */
export type AppFetch = (request: Request, env: unknown) => Response | Promise<Response>

/** The MCP SDK (with zod and ajv: ~0.3 s and ~28 MiB) is loaded by the first /mcp request, not by every server start. */
let sdk:
  Promise<[typeof import('../mcp/server.js'), typeof import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js')]> | undefined
const loadSdk = () =>
  (sdk ??= Promise.all([import('../mcp/server.js'), import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js')]))

/**
 * `/mcp` (API.md Part 2 "MCP"): the MCP Streamable HTTP endpoint, stateless (a server and a transport per request,
 * plain JSON answers), so any node of a cluster answers any call. A tool's request goes through the app itself with
 * the caller's Authorization header, so it meets the same validation, roles, audit trail and rate limit as the REST
 * call it stands for: an agent can do exactly what its token can.
 */
export function mcpRoutes(fetchApp: AppFetch) {
  return new Hono().all('/', async (c) => {
    const [{ createMcpServer }, { WebStandardStreamableHTTPServerTransport }] = await loadSdk()
    const authorization = c.req.header('authorization')
    const api = createTransport({
      url: IN_PROCESS,
      fetch: async (input, init) => fetchApp(new Request(input, init), c.env),
      ...(authorization ? { headers: { authorization } } : {}),
    })
    const server = createMcpServer(api)
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
    await server.connect(transport)
    try {
      return await transport.handleRequest(c.req.raw)
    } finally {
      // The answer is complete (JSON mode): nothing of this request's server outlives it.
      await server.close()
    }
  })
}
