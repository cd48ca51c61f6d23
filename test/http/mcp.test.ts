import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHarmonia, type Harmonia } from '../../src/harmonia.js'
import { startServer, type RunningServer } from '../../src/http/server.js'

/** /mcp and `harmonia mcp` (API.md Part 2 "MCP"): the SDK's own client lists the tools and drives a workflow. */

const BIN = fileURLToPath(new URL('../../bin/harmonia.js', import.meta.url))
const TOKENS = { admin: 'admin-secret-token', viewer: 'viewer-secret-token' }

let harmonia: Harmonia
let server: RunningServer
beforeAll(async () => {
  harmonia = await createHarmonia({
    database: 'memory:store',
    components: { math: { double: (input: unknown) => ({ n: (input as { n: number }).n * 2 }) } },
  })
  server = await startServer({
    harmonia,
    port: 0,
    hostname: '127.0.0.1',
    tokens: [TOKENS.admin, `viewer:${TOKENS.viewer}`],
  })
})
afterAll(async () => {
  await server.close()
  await harmonia.close()
})

async function connect(token?: string): Promise<Client> {
  const client = new Client({ name: 'harmonia-test', version: '1.0.0' })
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {}
  await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers } }))
  return client
}

/** The JSON a tool answered, and whether it was an error. */
async function call(client: Client, name: string, args: Record<string, unknown> = {}) {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult
  const first = result.content[0]
  if (first?.type !== 'text') throw new Error(`tool ${name} answered no text`)
  return { isError: result.isError === true, json: JSON.parse(first.text) as Record<string, any> }
}

const DOUBLER = {
  name: 'mcp-doubler',
  input: { n: { type: 'integer', required: true } },
  tasks: [{ id: 'double', component: 'math', action: 'double', input: { n: '${input.n}' } }],
  output: { result: '${tasks.double.output.n}' },
}

async function completed(client: Client, executionId: string) {
  for (;;) {
    const { json } = await call(client, 'get_workflow_status', { execution_id: executionId })
    if (!['pending', 'running'].includes(json.status as string)) return json
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('MCP over Streamable HTTP at /mcp', () => {
  it('lists the tools an agent needs, each with a JSON Schema made from the route schemas', async () => {
    const client = await connect(TOKENS.admin)
    const { tools } = await client.listTools()
    const names = tools.map((t) => t.name)
    for (const name of [
      'create_workflow',
      'get_workflow',
      'list_workflows',
      'update_workflow',
      'delete_workflow',
      'execute_workflow',
      'get_workflow_status',
      'list_executions',
      'pause_workflow',
      'resume_workflow',
      'cancel_workflow',
      'rerun_execution',
      'send_signal',
      'create_template',
      'list_templates',
      'instantiate_template',
      'list_components',
      'get_execution_history',
    ])
      expect(names).toContain(name)
    for (const tool of tools) expect(tool.inputSchema.type).toBe('object')
    const create = tools.find((t) => t.name === 'create_workflow')!
    expect(create.inputSchema.required).toEqual(expect.arrayContaining(['name', 'tasks']))
    const execute = tools.find((t) => t.name === 'execute_workflow')!
    expect(execute.inputSchema.properties).toHaveProperty('workflow_id')
    expect(execute.inputSchema.required).toEqual(['workflow_id'])
    await client.close()
  })

  it('creates a workflow, executes it and reads its status and history', async () => {
    const client = await connect(TOKENS.admin)
    const created = await call(client, 'create_workflow', DOUBLER)
    expect(created.isError).toBe(false)
    expect(created.json).toMatchObject({ name: 'mcp-doubler', version: 1 })
    const started = await call(client, 'execute_workflow', { workflow_id: created.json.workflow_id, input: { n: 21 } })
    expect(started.isError).toBe(false)
    const done = await completed(client, started.json.execution_id as string)
    expect(done).toMatchObject({ status: 'completed', output: { result: 42 } })
    const listed = await call(client, 'list_executions', { workflow_id: created.json.workflow_id })
    expect(listed.json.items.map((e: { execution_id: string }) => e.execution_id)).toEqual([started.json.execution_id])
    const history = await call(client, 'get_execution_history', { execution_id: started.json.execution_id })
    expect(history.isError).toBe(false)
    expect(JSON.stringify(history.json)).toContain('workflow_completed')
    const checkpoint = await call(client, 'create_checkpoint', { execution_id: started.json.execution_id })
    expect(checkpoint.json).toMatchObject({ execution_id: started.json.execution_id })
    const checkpoints = await call(client, 'list_checkpoints', { execution_id: started.json.execution_id })
    expect(checkpoints.json.items.map((c: { checkpoint_id: string }) => c.checkpoint_id)).toEqual([checkpoint.json.checkpoint_id])
    const restored = await call(client, 'restore_from_checkpoint', { checkpoint_id: checkpoint.json.checkpoint_id })
    expect(restored.isError).toBe(false)
    expect(await completed(client, restored.json.execution_id as string)).toMatchObject({ status: 'completed', output: { result: 42 } })
    const components = await call(client, 'list_components')
    expect(JSON.stringify(components.json)).toContain('"math"')
    await client.close()
  })

  it('steers an execution (pause, resume, signal, cancel, rerun) and drives templates and workflow versions', async () => {
    const client = await connect(TOKENS.admin)
    const gated = await call(client, 'create_workflow', {
      name: 'mcp-gated',
      tasks: [
        { id: 'gate', component: 'harmonia', action: 'wait_for_signal', input: { name: 'go' } },
        { id: 'after', component: 'math', action: 'double', input: { n: '${tasks.gate.output.n}' }, depends_on: ['gate'] },
      ],
      output: { result: '${tasks.after.output.n}' },
    })
    const workflowId = gated.json.workflow_id as string
    const status = async (id: string) => (await call(client, 'get_workflow_status', { execution_id: id })).json
    const first = (await call(client, 'execute_workflow', { workflow_id: workflowId })).json.execution_id as string
    expect((await call(client, 'pause_workflow', { execution_id: first })).isError).toBe(false)
    expect((await call(client, 'resume_workflow', { execution_id: first })).isError).toBe(false)
    while ((await status(first)).task_executions.gate.status !== 'running') await new Promise((r) => setTimeout(r, 20))
    expect((await call(client, 'send_signal', { execution_id: first, name: 'go', payload: { n: 4 } })).isError).toBe(false)
    expect(await completed(client, first)).toMatchObject({ status: 'completed', output: { result: 8 } })
    const rerun = await call(client, 'rerun_execution', { execution_id: first, tasks: ['after'] })
    expect(await completed(client, rerun.json.execution_id as string)).toMatchObject({ status: 'completed', output: { result: 8 } })
    const second = (await call(client, 'execute_workflow', { workflow_id: workflowId })).json.execution_id as string
    expect((await call(client, 'cancel_workflow', { execution_id: second })).isError).toBe(false)
    expect(await completed(client, second)).toMatchObject({ status: 'canceled' })

    const updated = await call(client, 'update_workflow', { workflow_id: workflowId, definition: { ...DOUBLER, name: 'mcp-gated' } })
    expect(updated.json).toMatchObject({ workflow_id: workflowId, version: 2 })
    expect((await call(client, 'get_workflow', { workflow_id: workflowId, version: 1 })).json.tasks[0].id).toBe('gate')
    const template = await call(client, 'create_template', {
      name: 'mcp-template',
      workflow_definition_id: workflowId,
      parameters: { n: { type: 'integer', required: true } },
    })
    expect(template.isError).toBe(false)
    const templateId = template.json.template_id as string
    expect((await call(client, 'get_template', { template_id: templateId })).json).toMatchObject({ name: 'mcp-template' })
    expect((await call(client, 'list_templates', { filter: 'mcp-template' })).json.items).toHaveLength(1)
    const made = await call(client, 'instantiate_template', { template_id: templateId, parameter_values: { n: 3 }, name: 'from-template' })
    expect(made.json).toMatchObject({ name: 'from-template' })
    expect((await call(client, 'delete_workflow', { workflow_id: made.json.workflow_id })).json).toEqual({ ok: true })
    expect((await call(client, 'get_workflow', { workflow_id: made.json.workflow_id })).json).toMatchObject({ status: 404 })
    await client.close()
  })

  it('answers bad arguments and API refusals as tool errors carrying the problem', async () => {
    const client = await connect(TOKENS.admin)
    const invalid = await call(client, 'create_workflow', { tasks: [] })
    expect(invalid.isError).toBe(true)
    expect(invalid.json).toMatchObject({ status: 422 })
    expect(invalid.json.errors.map((e: { path: string }) => e.path)).toContain('name')
    const noId = await call(client, 'execute_workflow', { input: {} })
    expect(noId.json).toMatchObject({ status: 422, errors: [{ path: 'workflow_id', message: 'workflow_id is required' }] })
    const badId = await call(client, 'get_workflow_status', { execution_id: 'nope' })
    expect(badId.json).toMatchObject({ status: 422, errors: [{ path: 'execution_id', message: 'execution_id must be a UUID' }] })
    const missing = await call(client, 'get_workflow', { workflow_id: '00000000-0000-4000-8000-000000000000' })
    expect(missing).toMatchObject({ isError: true, json: { status: 404 } })
    await expect(client.callTool({ name: 'no_such_tool', arguments: {} })).rejects.toThrow(/no tool named "no_such_tool"/)
    await client.close()
  })

  it('refuses a caller without a token, and holds each tool to the role of the token', async () => {
    await expect(connect()).rejects.toThrow(/401|Unauthorized/)
    await expect(connect('not-a-token')).rejects.toThrow(/401|Unauthorized/)
    const viewer = await connect(TOKENS.viewer)
    expect((await viewer.listTools()).tools.length).toBeGreaterThan(10)
    expect((await call(viewer, 'list_workflows')).isError).toBe(false)
    const refused = await call(viewer, 'create_workflow', { ...DOUBLER, name: 'by-a-viewer' })
    expect(refused).toMatchObject({ isError: true, json: { status: 403 } })
    expect(refused.json.detail).toContain('admin role')
    await viewer.close()
    // A tool's request is audited as the REST call it is, under the caller's token (named, never shown).
    const audit = await fetch(`${server.url}/api/audit?limit=1000`, { headers: { Authorization: `Bearer ${TOKENS.admin}` } })
    const text = await audit.text()
    const entries = (JSON.parse(text) as { items: { actor: string; action: string; status: number }[] }).items
    expect(entries).toContainEqual(
      expect.objectContaining({ actor: expect.stringMatching(/^viewer:/), action: 'workflow.create', status: 403 }),
    )
    expect(text).not.toContain(TOKENS.viewer)
  })
})

describe('harmonia mcp (stdio)', () => {
  it('serves the same tools over stdio, calling the server at --url with the token', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'mcp', '--url', server.url],
      env: { PATH: process.env.PATH ?? '', HARMONIA_TOKEN: TOKENS.admin },
      stderr: 'pipe',
    })
    const client = new Client({ name: 'harmonia-stdio-test', version: '1.0.0' })
    await client.connect(transport)
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('execute_workflow')
    const created = await call(client, 'create_workflow', { ...DOUBLER, name: 'stdio-doubler' })
    const started = await call(client, 'execute_workflow', { workflow_id: created.json.workflow_id, input: { n: 5 } })
    expect(await completed(client, started.json.execution_id as string)).toMatchObject({ status: 'completed', output: { result: 10 } })
    await client.close()
  })

  it('ends with exit code 0 when its stdin closes', async () => {
    const child = spawn(process.execPath, [BIN, 'mcp', '--url', server.url], { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    await new Promise((resolve) => child.stderr.once('data', resolve))
    child.stdin.end()
    expect(await exited).toBe(0)
    expect(stdout).toBe('')
  })
})
