import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import type { RunningServer } from '../../src/http/server.js'
import { startTestServer } from '../client/server.js'
import { apiClient, type ApiCall } from '../support/api.js'
import { until } from '../support/async.js'
import { ROOT } from '../support/processes.js'

/**
 * The README's "Control flow" examples are real: the section's workflows for sub-workflows, signals and JSON Schema
 * inputs are created through the API as written (the one placeholder filled in) and run to the outcome the text says.
 */

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
const section = readme.slice(readme.indexOf('\n## Control flow\n'), readme.indexOf('\n## ', readme.indexOf('\n## Control flow\n') + 5))
const workflows = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)]
  .map((m) => m[1]!)
  .filter((text) => text.startsWith('name:'))
  .map((text) => parseYaml(text) as Record<string, any>)
const byName = (name: string) => {
  const found = workflows.find((w) => w.name === name)
  if (!found) throw new Error(`the README's Control flow section has no workflow named ${name}`)
  return found
}

let server: RunningServer
let call: ApiCall

beforeAll(async () => {
  server = await startTestServer()
  call = apiClient(() => server.url)
})
afterAll(() => server.close())

async function run(workflow: Record<string, unknown>, input?: unknown): Promise<string> {
  const created = await call('POST', '/api/workflows', workflow)
  expect(created.status, created.text).toBe(201)
  const started = await call('POST', '/api/executions', { workflow_id: created.body.workflow_id, ...(input ? { input } : {}) })
  expect(started.status, started.text).toBe(201)
  return started.body.execution_id as string
}

async function finished(id: string): Promise<any> {
  let execution: any
  await until(async () => !['pending', 'running'].includes((execution = (await call('GET', `/api/executions/${id}`)).body).status))
  return execution
}

describe("README's Control flow examples", () => {
  it('has the workflows it names', () => {
    // Other subsections (fan-out, schedules, …) bring workflows of their own, with components of their own.
    expect(workflows.map((w) => w.name)).toEqual(expect.arrayContaining(['deploy', 'orders', 'release']))
  })

  it('release: a stored child by id and version, and a generated one', async () => {
    const build = await call('POST', '/api/workflows', {
      name: 'build',
      input: { ref: { type: 'string' } },
      tasks: [{ id: 'b', component: 'harmonia', action: 'echo', input: { built: '${input.ref}' } }],
      output: { built: '${tasks.b.output.built}' },
    })
    const release = JSON.parse(JSON.stringify(byName('release')).replace('<build_workflow_id>', build.body.workflow_id as string))
    const done = await finished(await run(release))
    expect(done.status, JSON.stringify(done)).toBe('completed')
    expect(done.output).toEqual({ artifact: { built: 'main' }, checks: true })
  })

  it('deploy: waits for the approval signal, as the curl shows', async () => {
    const id = await run(byName('deploy'))
    await until(async () => ((await call('GET', `/api/executions/${id}/signals`)).body as any[]).some((s) => s.waiting))
    const sent = await call('POST', `/api/executions/${id}/signals/approved`, { payload: { by: 'ada' } })
    expect(sent.body).toEqual({ execution_id: id, name: 'approved', delivered: true })
    expect((await call('GET', `/api/executions/${id}/signals`)).body).toEqual([
      { name: 'approved', waiting: false, received: [{ by: 'ada' }] },
    ])
    expect((await finished(id)).task_executions.deploy.output).toEqual({ approved_by: 'ada' })
  })

  it('orders: the 422 the text quotes, and defaults applied', async () => {
    const created = await call('POST', '/api/workflows', byName('orders'))
    const quoted = /Starting it with `(\{.*?\})`/.exec(section)![1]!
    const refused = await call('POST', '/api/executions', { workflow_id: created.body.workflow_id, input: JSON.parse(quoted) })
    expect(refused.status).toBe(422)
    expect(refused.body.errors.map((e: any) => e.path)).toEqual(['input.priority', 'input.items[2].qty'])
    expect(section).toContain(JSON.stringify(refused.body.errors[1]).replaceAll(',', ', ').replaceAll('":', '": '))
    const done = await finished(await run(byName('orders'), { customer: 'ada', items: [{ sku: 'a', qty: 1 }] }))
    expect(done.task_executions.take.output).toEqual({ order: { customer: 'ada', priority: 'low', items: [{ sku: 'a', qty: 1 }] } })
  })
})
