import type { Command } from '../command.js'
import { EXIT } from '../io.js'

export const mcpCommand: Command = {
  name: 'mcp',
  args: '',
  summary: "serve Harmonia's MCP tools over stdio, for agent hosts that spawn a process, calling the server at --url",
  details:
    'Speaks the Model Context Protocol on stdin/stdout (nothing else is written to stdout) until stdin closes. ' +
    'Each tool is one request to the server, made with --token/HARMONIA_TOKEN: an agent can do what that token can.',
  arity: [0, 0],
  async run(ctx) {
    // Loaded here so that the other commands never load the MCP SDK.
    const [{ StdioServerTransport }, { createMcpServer }, { createTransport }] = await Promise.all([
      import('@modelcontextprotocol/sdk/server/stdio.js'),
      import('../../mcp/server.js'),
      import('../../client/transport.js'),
    ])
    const server = createMcpServer(createTransport({ url: ctx.url, ...(ctx.token ? { token: ctx.token } : {}) }))
    const transport = new StdioServerTransport()
    const closed = new Promise<void>((resolve) => {
      transport.onclose = resolve
      process.stdin.once('end', resolve)
    })
    await server.connect(transport)
    ctx.io.stderr.write(`harmonia mcp: serving tools over stdio for ${ctx.url}\n`)
    await closed
    await server.close()
    return EXIT.ok
  },
}
