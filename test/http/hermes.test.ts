import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { expect, it } from 'vitest'
import { startServer } from '../../src/http/server.js'
import { until } from '../support/async.js'

/** A small Hermes stand-in listening on loopback: records what Harmonia sends. */
async function fakeHermes(up = true) {
  const calls: Array<{ path: string; body: any; token: string | undefined }> = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = ''
    req.on('data', (d: Buffer) => (raw += d.toString()))
    req.on('end', () => {
      calls.push({
        path: req.url ?? '',
        body: raw ? JSON.parse(raw) : null,
        token: req.headers['x-authentication-token'] as string | undefined,
      })
      res.writeHead(up ? 200 : 503, { 'content-type': 'application/json' })
      res.end(JSON.stringify(req.url === '/api/register' ? { success: true, componentId: 'c-1', token: 'tok' } : { success: true }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, calls, close: () => new Promise((r) => server.close(r)) }
}

it('registers with Hermes at start, reports it in /health and unregisters on shutdown', async () => {
  const hermes = await fakeHermes()
  const server = await startServer({
    port: 0,
    hostname: '127.0.0.1',
    tokens: [],
    hermesUrl: hermes.url,
    harmoniaOptions: { database: 'memory:store' },
  })
  try {
    await until(() => hermes.calls.some((c) => c.path === '/api/register'), 'registration')
    const register = hermes.calls.find((c) => c.path === '/api/register')!
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
  const unregister = hermes.calls.find((c) => c.path === '/api/unregister')
  expect(unregister).toMatchObject({ body: { component_id: 'c-1' }, token: 'tok' })
  await hermes.close()
})

it('Hermes being down never stops Harmonia: /health says registered false', async () => {
  const hermes = await fakeHermes(false)
  const server = await startServer({
    port: 0,
    hostname: '127.0.0.1',
    tokens: [],
    hermesUrl: hermes.url,
    harmoniaOptions: { database: 'memory:store' },
  })
  try {
    await until(() => hermes.calls.length > 0, 'an attempt')
    const health = (await (await fetch(`${server.url}/health`)).json()) as { status: string; registered: boolean }
    expect(health).toMatchObject({ status: 'healthy', registered: false })
    expect((await fetch(`${server.url}/api/workflows`)).status).toBe(200)
  } finally {
    await server.close()
    await hermes.close()
  }
})
