import { afterEach, describe, expect, it } from 'vitest'
import { SimulatedClock } from 'xstate'
import { createMemoryStore } from '../../src/db/memory.store.js'
import { createHarmonia } from '../../src/harmonia.js'
import { retentionFromEnv, startServer, type RunningServer } from '../../src/http/server.js'
import { until } from '../support/harness.js'

let server: RunningServer | undefined
afterEach(async () => {
  delete process.env.HARMONIA_RETENTION_DAYS
  await server?.close()
  server = undefined
})

describe('HARMONIA_RETENTION_DAYS', () => {
  it('is off when unset; days become seconds; anything but a positive number is refused by name', () => {
    expect(retentionFromEnv(undefined)).toBeUndefined()
    expect(retentionFromEnv('')).toBeUndefined()
    expect(retentionFromEnv('30')).toEqual({ maxAgeSeconds: 30 * 86_400 })
    expect(retentionFromEnv('0.5')).toEqual({ maxAgeSeconds: 43_200 })
    for (const bad of ['0', '-1', 'week', 'Infinity'])
      expect(() => retentionFromEnv(bad)).toThrow(/HARMONIA_RETENTION_DAYS must be a positive number/)
  })

  it('a server started with it deletes executions that ended longer ago, at start; recent ones stay', async () => {
    const store = createMemoryStore()
    // An execution that finished in 2020 (a simulated clock), and one that finished just now.
    const clock = new SimulatedClock()
    clock.set(Date.parse('2020-01-01T00:00:00Z'))
    const past = await createHarmonia({ store: { ...store, close: async () => {} }, clock })
    const wf = await past.createWorkflow({ name: 'old', tasks: [{ id: 'n', component: 'harmonia', action: 'noop' }] })
    const old = await past.waitForExecution((await past.startExecution({ workflow_id: wf.workflow_id })).execution_id)
    await past.close()
    const present = await createHarmonia({ store: { ...store, close: async () => {} } })
    const recent = await present.waitForExecution((await present.startExecution({ workflow_id: wf.workflow_id })).execution_id)
    await present.close()

    process.env.HARMONIA_RETENTION_DAYS = '30'
    server = await startServer({ harmoniaOptions: { store }, port: 0, hostname: '127.0.0.1', tokens: [] })
    await until(async () => (await fetch(`${server!.url}/api/executions/${old.execution_id}`)).status === 404, 'old execution purged')
    expect((await fetch(`${server.url}/api/executions/${recent.execution_id}`)).status).toBe(200)
  })
})
