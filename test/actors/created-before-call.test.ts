import { afterAll, describe, expect, it } from 'vitest'
import { createHarmonia } from '../../src/index.js'

/**
 * A component is never called for an execution a crash could still take back: by the time a new execution's first
 * handler runs, the execution's row is in the database (a reader of the store sees it).
 */
describe('a new execution is durable before its first component call', () => {
  const seen: boolean[] = []
  const ready = createHarmonia({
    database: 'memory://',
    components: {
      probe: {
        look: async (_input: unknown, ctx) => {
          const harmonia = await ready
          const page = await harmonia.listExecutions({ limit: 100 })
          seen.push(page.items.some((e) => e.execution_id === ctx.executionId))
          return {}
        },
      },
    },
  })
  afterAll(async () => (await ready).close())

  it('its row is stored when the first handler looks, for every one of a burst of executions', async () => {
    const harmonia = await ready
    const wf = await harmonia.createWorkflow({ name: 'probe', tasks: [{ id: 'a', component: 'probe', action: 'look' }] })
    const started = await Promise.all(Array.from({ length: 5 }, () => harmonia.startExecution({ workflow_id: wf.workflow_id })))
    for (const ex of started) expect((await harmonia.waitForExecution(ex.execution_id)).status).toBe('completed')
    expect(seen).toEqual([true, true, true, true, true])
  })
})
