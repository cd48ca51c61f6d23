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
  // API.md: `POST {HERMES_URL}/api/unregister?component_id=<componentId>` with the token header; the stand-in accepts it.
  expect(hermes.requestsTo('/api/unregister')).toEqual([
    { method: 'POST', path: '/api/unregister', query: { component_id: 'c-1' }, body: null, token: 'tok-1', status: 200 },
  ])
  expect(hermes.registrations.size).toBe(0)
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

it('heartbeats with the token Hermes gave, and registers again after Hermes restarts and forgets it', async () => {
  const hermes = await startHermesStandIn()
  const registration = startHermes({ url: hermes.url, port: 1, version: '0', logger: createLogger({ level: 'silent' }), heartbeatMs: 5 })
  const heartbeatsWith = (token: string) => hermes.requestsTo('/api/heartbeat').filter((r) => r.token === token)
  try {
    await until(() => heartbeatsWith('tok-1').length > 0, 'a heartbeat')
    expect(heartbeatsWith('tok-1')[0]).toMatchObject({
      method: 'POST',
      status: 200,
      body: { component_id: 'c-1', status: { health: 'healthy' } },
    })

    // Hermes restarted between two heartbeats and lost its registrations: the next heartbeat gets 401, and Harmonia
    // registers again and heartbeats with the new token.
    hermes.registrations.clear()
    await until(() => heartbeatsWith('tok-2').length > 0, 'a heartbeat with the second token')
    const afterForget = hermes.requests.slice(hermes.requests.findIndex((r) => r.path === '/api/heartbeat' && r.status === 401))
    expect(afterForget.slice(0, 3).map((r) => `${r.path} ${r.token ?? '-'} ${r.status}`)).toEqual([
      '/api/heartbeat tok-1 401',
      '/api/register - 200',
      '/api/heartbeat tok-2 200',
    ])

    // Hermes goes down (heartbeats fail: not registered) and comes back having forgotten everything: registered again.
    await hermes.stop()
    await until(() => !registration.registered, 'registered false while Hermes is down')
    hermes.registrations.clear()
    await hermes.start()
    await until(() => heartbeatsWith('tok-3').some((r) => r.status === 200), 'a heartbeat with the third token')
    expect(registration.registered).toBe(true)
    expect(hermes.requestsTo('/api/register')).toHaveLength(3)
  } finally {
    await registration.stop()
    await hermes.stop()
  }
})
