/**
 * A method the route does not serve (RFC 9110 §15.5.6): a path some route matches answers 405 problem+json with an
 * `Allow` header naming every method of that path (HEAD wherever GET is, as Hono answers HEAD with the GET handler);
 * a path no route matches stays 404. Through a real listening server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openApiDocument } from '../../src/http/openapi.js'
import { startServer, type RunningServer } from '../../src/http/server.js'

/** A well-formed UUID (v7) that names nothing. */
const ID = '01890000-0000-7000-8000-000000000000'
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const

type Problem = { type: string; title: string; status: number; detail: string }

let server: RunningServer

async function send(method: string, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(server.url + path, { method, headers })
  const text = await response.text()
  return { status: response.status, allow: response.headers.get('allow'), type: response.headers.get('content-type'), text }
}

async function expect405(method: string, path: string, allow: string) {
  const response = await send(method, path)
  expect(response.status, `${method} ${path}: ${response.text.slice(0, 300)}`).toBe(405)
  expect(response.allow, `${method} ${path}`).toBe(allow)
  expect(response.type, `${method} ${path}`).toBe('application/problem+json')
  if (method === 'HEAD') return expect(response.text).toBe('')
  const problem = JSON.parse(response.text) as Problem
  expect(problem).toMatchObject({ type: 'https://harmonia.dev/problems/405', title: 'Method Not Allowed', status: 405 })
  expect(problem.detail).toContain(`${method} is not allowed on ${path}`)
}

beforeAll(async () => {
  server = await startServer({ port: 0, hostname: '127.0.0.1', tokens: [], graceMs: 0, harmoniaOptions: { database: 'memory:store' } })
})
afterAll(async () => {
  await server?.close()
})

describe('405 Method Not Allowed', () => {
  // prettier-ignore
  const rows: [method: string, path: string, allow: string][] = [
    ['DELETE', `/api/executions/${ID}`, 'GET, HEAD'],
    ['POST', `/api/executions/${ID}`, 'GET, HEAD'],
    ['PATCH', `/api/v1/executions/${ID}`, 'GET, HEAD'],
    ['GET', `/api/executions/${ID}/cancel`, 'POST'],
    ['HEAD', `/api/executions/${ID}/pause`, 'POST'],
    ['PUT', `/api/v1/executions/${ID}/resume`, 'POST'],
    ['DELETE', '/api/workflows', 'GET, HEAD, POST'],
    ['PATCH', `/api/workflows/${ID}`, 'GET, HEAD, PUT, DELETE'],
    ['POST', `/api/v1/workflows/${ID}`, 'GET, HEAD, PUT, DELETE'],
    ['PATCH', `/api/state/${ID}`, 'GET, HEAD, PUT'],
    ['OPTIONS', '/api/templates', 'GET, HEAD, POST'],
    ['GET', `/api/checkpoints/${ID}/restore`, 'POST'],
    ['POST', '/health', 'GET, HEAD'],
    ['DELETE', '/ready', 'GET, HEAD'],
    ['PUT', '/openapi.json', 'GET, HEAD'],
    ['POST', '/docs', 'GET, HEAD'],
    ['POST', '/events/executions', 'GET, HEAD'],
    ['DELETE', `/events/executions/${ID}`, 'GET, HEAD'],
    ['POST', `/ws/executions/${ID}`, 'GET, HEAD'],
    ['DELETE', '/api/components', 'GET, HEAD, POST'],
    ['POST', '/api/components/sophia', 'GET, HEAD, PUT, DELETE'],
    ['PUT', '/api/v1/components/sophia/health', 'GET, HEAD'],
    ['GET', `/api/executions/${ID}/tasks/t1/complete`, 'POST'],
    ['PUT', `/api/v1/executions/${ID}/tasks/t1/fail`, 'POST'],
  ]
  it.each(rows)('%s %s → 405, Allow: %s', async (method, path, allow) => {
    await expect405(method, path, allow)
  })

  // Every documented path, every method it does not document: the Allow header matches the OpenAPI document.
  const paths = Object.entries(openApiDocument('').paths).map(([path, item]) => {
    const documented = Object.keys(item).map((m) => m.toUpperCase())
    if (documented.includes('GET')) documented.push('HEAD')
    const allow = METHODS.filter((m) => documented.includes(m)).join(', ')
    return { path, concrete: path.replace(/\{\w+\}/g, ID), allow, others: METHODS.filter((m) => !documented.includes(m)) }
  })
  it.each(paths)('$path: every other method → 405, Allow: $allow', async ({ concrete, allow, others }) => {
    expect(others.length).toBeGreaterThan(0)
    for (const method of others) await expect405(method, concrete, allow)
  })

  it('comes after auth: without a token 401, with one 405', async () => {
    const guarded = await startServer({ port: 0, hostname: '127.0.0.1', tokens: ['s3cret'], harmoniaOptions: { database: 'memory:store' } })
    try {
      const anonymous = await fetch(`${guarded.url}/api/executions/${ID}`, { method: 'DELETE' })
      expect(anonymous.status).toBe(401)
      await anonymous.body?.cancel()
      const authorized = await fetch(`${guarded.url}/api/executions/${ID}`, {
        method: 'DELETE',
        headers: { authorization: 'Bearer s3cret' },
      })
      expect(authorized.status).toBe(405)
      expect(authorized.headers.get('allow')).toBe('GET, HEAD')
      await authorized.body?.cancel()
    } finally {
      await guarded.close()
    }
  })
})

describe('404 for a path no route matches', () => {
  it.each([
    ['GET', '/api/nothing-here'],
    ['DELETE', '/nowhere'],
    ['POST', `/api/executions/${ID}/explode`],
    ['GET', '/api/v2/workflows'],
  ])('%s %s → 404 without Allow', async (method, path) => {
    const response = await send(method, path)
    expect(response.status).toBe(404)
    expect(response.allow).toBeNull()
    expect(response.type).toBe('application/problem+json')
    expect(JSON.parse(response.text)).toMatchObject({ status: 404, detail: `no route for ${method} ${path}` })
  })

  it('an unknown id on a route that exists is still the resource 404', async () => {
    const response = await send('GET', `/api/executions/${ID}`)
    expect(response.status).toBe(404)
    expect(response.allow).toBeNull()
    expect(JSON.parse(response.text)).toMatchObject({ type: 'https://harmonia.dev/problems/not_found' })
  })
})
