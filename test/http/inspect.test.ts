import { expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { startServer } from '../../src/http/server.js'
import { until } from '../support/async.js'

it('HARMONIA_INSPECT attaches the Stately inspector to every execution and task actor', async () => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise((resolve) => wss.once('listening', resolve))
  const messages: Array<{ type: string; sessionId?: string }> = []
  wss.on('connection', (socket) => socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString()) as { type: string })))
  process.env.HARMONIA_INSPECT = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`
  const server = await startServer({ port: 0, hostname: '127.0.0.1', tokens: [], harmoniaOptions: { database: 'memory:store' } })
  delete process.env.HARMONIA_INSPECT
  try {
    const wf = await server.harmonia.createWorkflow({ name: 'i', tasks: [{ id: 'only', component: 'harmonia', action: 'noop' }] })
    const run = await server.harmonia.startExecution({ workflow_id: wf.workflow_id })
    await server.harmonia.waitForExecution(run.execution_id)
    await until(() => messages.filter((m) => m.type === '@xstate.actor').length >= 2, 'actor messages from the execution and its task')
    expect(messages.some((m) => m.type === '@xstate.snapshot')).toBe(true)
  } finally {
    await server.close()
    wss.close()
  }
})
