/**
 * HARMONIA_RATE_LIMIT (API.md "Roles, audit and limits"): past `<n>` requests in `<seconds>`, 429 problem+json with
 * `Retry-After`. Through real listening servers (the limit given as an option, and read from the environment): of 100
 * requests exactly 10 pass; /health is never limited; each token has its own window, and with auth off each client
 * address has its own. The window's rollover is checked on the middleware itself with an injected clock (no sleeping).
 */
import { request as httpRequest } from 'node:http'
import { Hono } from 'hono'
import { afterEach, describe, expect, it } from 'vitest'
import { authenticate } from '../../src/http/auth.js'
import { problemResponse } from '../../src/http/problem.js'
import { rateLimiter, rateLimitFromEnv } from '../../src/http/rate-limit.js'
import { parseTokens } from '../../src/http/roles.js'
import { startServer, type RunningServer } from '../../src/http/server.js'

let server: RunningServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

type Answer = { status: number; type: string; retryAfter: string | null; body: any }

/** A GET from `localAddress` (any 127.x.y.z is this machine's loopback): a client at another address. */
function get(url: string, headers: Record<string, string> = {}, localAddress = '127.0.0.1'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, localAddress, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => {
        const type = res.headers['content-type'] ?? ''
        const retryAfter = res.headers['retry-after'] ?? null
        resolve({ status: res.statusCode ?? 0, type, retryAfter, body: text ? JSON.parse(text) : undefined })
      })
    })
    req.on('error', reject)
    req.end()
  })
}

/** `n` requests at once (well inside one window); their answers. */
const burst = (n: number, send: () => Promise<Answer>) => Promise.all(Array.from({ length: n }, send))

function expectLimited(answers: Answer[], passed: number, windowSeconds: number) {
  const ok = answers.filter((a) => a.status === 200)
  const limited = answers.filter((a) => a.status !== 200)
  expect(ok).toHaveLength(passed)
  expect(new Set(limited.map((a) => a.status))).toEqual(new Set(limited.length ? [429] : []))
  for (const answer of limited) {
    expect(answer.type).toBe('application/problem+json')
    expect(answer.body).toMatchObject({ type: 'https://harmonia.dev/problems/429', title: 'Too Many Requests', status: 429 })
    expect(answer.retryAfter).toMatch(/^[1-9]\d*$/)
    expect(Number(answer.retryAfter)).toBeLessThanOrEqual(windowSeconds)
  }
}

const start = (options: { tokens?: string[]; rateLimit?: { requests: number; seconds: number } }) =>
  startServer({ port: 0, graceMs: 0, tokens: [], ...options, harmoniaOptions: { database: 'memory:store' } })

describe('a server with a limit of 10 requests per 10 s', () => {
  it('lets 10 of 100 through and answers the rest 429 with Retry-After; /health is never limited', async () => {
    server = await start({ tokens: ['operator:rl-a', 'viewer:rl-b'], rateLimit: { requests: 10, seconds: 10 } })
    const url = server.url
    const asA = { authorization: 'Bearer rl-a' }
    expectLimited(await burst(20, () => get(`${url}/health`)), 20, 10)
    expectLimited(await burst(100, () => get(`${url}/api/workflows`, asA)), 10, 10)
    // The limit counts every route: another one is refused as well, and /health and /ready still answer.
    expectLimited(await burst(5, () => get(`${url}/api/executions`, asA)), 0, 10)
    expectLimited(await burst(20, () => get(`${url}/health`)), 20, 10)
    expect((await get(`${url}/ready`)).status).toBe(200)
    // Another token has a window of its own.
    expectLimited(await burst(30, () => get(`${url}/api/workflows`, { authorization: 'Bearer rl-b' })), 10, 10)
    // A refused 429 names nothing of the token.
    const refused = await get(`${url}/api/workflows`, asA)
    expect(JSON.stringify(refused.body)).not.toContain('rl-a')
  })

  it('with auth off, counts per client address', async () => {
    server = await start({ rateLimit: { requests: 10, seconds: 10 } })
    const url = `${server.url}/api/workflows`
    expectLimited(await burst(100, () => get(url)), 10, 10)
    expectLimited(await burst(30, () => get(url, {}, '127.0.0.2')), 10, 10)
    expectLimited(await burst(5, () => get(url)), 0, 10)
  })

  it('reads HARMONIA_RATE_LIMIT=10/10 when no option is given', async () => {
    const saved = process.env.HARMONIA_RATE_LIMIT
    process.env.HARMONIA_RATE_LIMIT = '10/10'
    try {
      server = await start({ tokens: ['rl-env'] })
    } finally {
      if (saved === undefined) delete process.env.HARMONIA_RATE_LIMIT
      else process.env.HARMONIA_RATE_LIMIT = saved
    }
    expectLimited(await burst(100, () => get(`${server!.url}/api/workflows`, { authorization: 'Bearer rl-env' })), 10, 10)
    expect((await get(`${server.url}/health`)).status).toBe(200)
  })

  it('is off without the option and the variable', async () => {
    server = await start({})
    expectLimited(await burst(100, () => get(`${server!.url}/api/workflows`)), 100, 10)
  })
})

describe('rateLimitFromEnv', () => {
  it.each([
    ['10/10', { requests: 10, seconds: 10 }],
    ['100/60', { requests: 100, seconds: 60 }],
    [' 5 / 2.5 ', { requests: 5, seconds: 2.5 }],
    ['1/1s', { requests: 1, seconds: 1 }],
    ['1000/0.5', { requests: 1000, seconds: 0.5 }],
  ])('%j → %j', (raw, limit) => {
    expect(rateLimitFromEnv(raw)).toEqual(limit)
  })

  it.each([undefined, '', '   '])('%j → off', (raw) => {
    expect(rateLimitFromEnv(raw)).toBeUndefined()
  })

  it.each(['10', '10/', '/10', 'ten/10', '0/10', '10/0', '-1/10', '10/-1', '1e3/10', '10/10/10', '10:10', '10 per 10', '1.5/10'])(
    '%j → an error naming HARMONIA_RATE_LIMIT',
    (raw) => {
      expect(() => rateLimitFromEnv(raw)).toThrow(/HARMONIA_RATE_LIMIT/)
    },
  )
})

describe('the window, on an injected clock', () => {
  /** A small app with the limiter as the server mounts it (after auth, problem+json on error), on clock `now`. */
  function limited(requests: number, seconds: number, tokens: string[] = []) {
    const clock = { now: 1_000_000 }
    const app = new Hono()
    app.onError((error, c) => problemResponse(c, error))
    app.use('*', authenticate(parseTokens(tokens)))
    app.use(
      '*',
      rateLimiter({ requests, seconds }, () => clock.now),
    )
    app.get('/health', (c) => c.json({ ok: true }))
    app.get('/x', (c) => c.json({ ok: true }))
    const send = async (path = '/x', token?: string) => {
      const response = await app.request(path, { headers: token ? { authorization: `Bearer ${token}` } : {} })
      return { status: response.status, retryAfter: response.headers.get('retry-after'), type: response.headers.get('content-type') }
    }
    return { clock, send }
  }

  it('refuses past the limit until the window ends, with Retry-After counting down, then opens a new window', async () => {
    const { clock, send } = limited(3, 10)
    for (let i = 0; i < 3; i++) expect((await send()).status).toBe(200)
    expect(await send()).toEqual({ status: 429, retryAfter: '10', type: 'application/problem+json' })
    clock.now += 4_500
    expect(await send()).toMatchObject({ status: 429, retryAfter: '6' })
    clock.now += 5_499 // 1 ms before the end of the window
    expect(await send()).toMatchObject({ status: 429, retryAfter: '1' })
    expect((await send('/health')).status).toBe(200)
    clock.now += 1
    for (let i = 0; i < 3; i++) expect((await send()).status, `request ${i + 1} of the new window`).toBe(200)
    expect(await send()).toMatchObject({ status: 429, retryAfter: '10' })
    // A window that has long passed starts afresh.
    clock.now += 3_600_000
    expect((await send()).status).toBe(200)
  })

  it('counts refused requests in the window but never /health; windows are per token', async () => {
    const { clock, send } = limited(2, 1, ['a', 'viewer:b'])
    expect((await send('/x', 'a')).status).toBe(200)
    expect((await send('/x', 'a')).status).toBe(200)
    expect((await send('/x', 'a')).status).toBe(429)
    for (let i = 0; i < 10; i++) expect((await send('/health')).status).toBe(200)
    expect((await send('/x', 'b')).status).toBe(200)
    expect((await send('/x', 'b')).status).toBe(200)
    expect(await send('/x', 'b')).toMatchObject({ status: 429, retryAfter: '1' })
    clock.now += 999
    expect((await send('/x', 'a')).status).toBe(429)
    clock.now += 1
    expect((await send('/x', 'a')).status).toBe(200)
    expect((await send('/x', 'b')).status).toBe(200)
  })
})
