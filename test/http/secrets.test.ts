import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, expect, it } from 'vitest'
import { createHarmonia, type Harmonia } from '../../src/harmonia.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { createLogger } from '../../src/logger.js'
import { apiClient } from '../support/api.js'
import { closeComponentServers, signed, startComponentServer, type Reply } from '../support/component-server.js'
import { describeEachStore, testStore, until } from '../support/harness.js'

/**
 * A component's secret is never returned or logged (API.md "Remote components"): through a whole run — registered
 * over the API and in the config file, called (signed), a bad callback, a good one, a failure — the secret appears
 * in no log line at debug level, no components answer, no event of the history and not in the execution.
 */

const dir = mkdtempSync(join(tmpdir(), 'harmonia-secrets-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let server: RunningServer | undefined
let harmonia: Harmonia
const call = apiClient(() => server!.url)

afterEach(async () => {
  await server?.close()
  server = undefined
  await harmonia?.close()
  await closeComponentServers()
  delete process.env.H7_CONFIG_SECRET
})

describeEachStore('secrets never leak', () => {
  it('not in the logs, the components API, the history or the execution', async () => {
    const secret = `api-secret-${randomUUID()}`
    const configSecret = `config-secret-${randomUUID()}`
    const replacedSecret = `replaced-secret-${randomUUID()}`
    const lines: string[] = []
    const logger = createLogger({ level: 'debug', pretty: false, write: (line) => lines.push(line) })

    // The first call is answered later (202, then callbacks); the second fails for good.
    const remote = await startComponentServer({
      action: (c): Reply =>
        c.action === 'later' ? { status: 202, body: {} } : { status: 400, body: { error: { message: 'refused by the component' } } },
    })
    process.env.H7_CONFIG_SECRET = configSecret
    const config = join(dir, `${randomUUID()}.yaml`)
    writeFileSync(config, `components:\n  cfg-signed:\n    url: ${remote.url}\n    secret: \${env:H7_CONFIG_SECRET}\n`)
    harmonia = await createHarmonia({
      store: testStore(),
      recover: false,
      enableShell: false,
      logger,
      config,
      publicUrl: () => server?.url,
    })
    server = await startServer({ harmonia, port: 0, hostname: '127.0.0.1', tokens: [], logger })

    const name = `leaky-${randomUUID().slice(0, 8)}`
    const answers = [
      await call('POST', '/api/components', { name, url: remote.url, secret: replacedSecret }),
      await call('PUT', `/api/components/${name}`, { url: remote.url, secret }),
      await call('GET', '/api/components'),
      await call('GET', `/api/components/${name}`),
      await call('GET', '/api/components/cfg-signed'),
    ]
    expect(answers.map((a) => a.status)).toEqual([201, 200, 200, 200, 200])
    expect(answers[3]!.body).toMatchObject({ source: 'api', has_secret: true })
    expect(answers[4]!.body).toMatchObject({ source: 'config', has_secret: true })

    const wf = await call('POST', '/api/workflows', {
      name: 'secrets',
      tasks: [
        { id: 'later', component: name, action: 'later', input: { note: 'no secret here' } },
        { id: 'config', component: 'cfg-signed', action: 'later' },
        { id: 'refused', component: name, action: 'refused', depends_on: ['later', 'config'] },
      ],
    })
    expect(wf.status).toBe(201)
    const id = (await call('POST', '/api/executions', { workflow_id: wf.body.workflow_id })).body.execution_id as string
    await until(() => remote.calls.length === 2, 'both components called')

    const body = JSON.stringify({ output: { done: true } })
    const bad = await call('POST', `/api/executions/${id}/tasks/later/complete`, undefined, { raw: body, headers: signed('wrong', body) })
    expect(bad.status).toBe(401)
    const badConfig = await call('POST', `/api/executions/${id}/tasks/config/complete`, undefined, {
      raw: body,
      headers: signed(secret, body),
    })
    expect(badConfig.status).toBe(401)
    answers.push(bad, badConfig)
    for (const [task, key] of [
      ['later', secret],
      ['config', configSecret],
    ] as const) {
      const good = await call('POST', `/api/executions/${id}/tasks/${task}/complete`, undefined, { raw: body, headers: signed(key, body) })
      expect(good.status).toBe(200)
    }
    const done = await harmonia.waitForExecution(id)
    expect(done.status).toBe('failed')
    expect(remote.calls).toHaveLength(3)

    answers.push(
      await call('GET', `/api/executions/${id}`),
      await call('GET', `/api/executions/${id}/history`),
      await call('GET', '/api/components'),
    )
    const history = answers.at(-2)!.body
    expect(history.events.length).toBeGreaterThan(5)
    expect(answers.at(-3)!.body.task_executions.refused.error.message).toBe('refused by the component')

    // The capture works: the failed execution was logged, with the component's message.
    const log = lines.join('\n')
    expect(log).toContain('execution failed')
    expect(log).toContain('refused by the component')

    for (const value of [secret, configSecret, replacedSecret]) {
      expect(log).not.toContain(value)
      for (const answer of answers) expect(answer.text).not.toContain(value)
      expect(JSON.stringify(await harmonia.getEvents(id))).not.toContain(value)
      expect(JSON.stringify(await harmonia.getExecution(id))).not.toContain(value)
      expect(JSON.stringify(await harmonia.listComponents())).not.toContain(value)
    }
    // It was used all the same: the component received calls signed with it.
    expect(remote.calls.every((c) => typeof c.headers['x-harmonia-signature'] === 'string')).toBe(true)
  })
})
