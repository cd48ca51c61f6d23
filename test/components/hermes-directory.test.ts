import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createHermesDirectory, type HermesDirectoryOptions } from '../../src/components/hermes-directory.js'
import { UnavailableError } from '../../src/errors.js'
import { deferred, until } from '../support/async.js'
import { startHermesStandIn, type HermesStandIn } from '../support/hermes-stand-in.js'

let hermes: HermesStandIn
beforeAll(async () => {
  hermes = await startHermesStandIn()
})
afterAll(() => hermes.stop())
beforeEach(() => {
  hermes.failWith(null)
  hermes.components.clear()
  hermes.requests.length = 0
})

/** A directory on a clock the test moves. */
function directory(options: Partial<HermesDirectoryOptions> = {}) {
  const clock = { now: 1_000_000 }
  const hermesDirectory = createHermesDirectory({ url: hermes.url, now: () => clock.now, ...options })
  return { directory: hermesDirectory, clock }
}
const lookups = (name: string) => hermes.requestsTo(`/api/components/${encodeURIComponent(name)}`)

describe('lookup', () => {
  it('answers a component Hermes knows: url from endpoint, actions from capabilities', async () => {
    hermes.add('prometheus', { endpoint: 'http://127.0.0.1:8030', capabilities: ['analyze_results', 'report'] })
    const { directory: d } = directory()
    expect(await d.lookup('prometheus')).toEqual({
      name: 'prometheus',
      url: 'http://127.0.0.1:8030',
      actions: ['analyze_results', 'report'],
    })
    expect(lookups('prometheus')).toMatchObject([{ method: 'GET' }])
  })

  it('accepts url for a missing endpoint, actions for missing capabilities, and capability objects with a name', async () => {
    hermes.add('a', { url: 'https://a.tekton.local', actions: ['x'] })
    hermes.add('b', { endpoint: 'http://b', capabilities: [{ name: 'y', version: '1' }, 'z'] })
    hermes.add('c', { endpoint: 'http://c' })
    const { directory: d } = directory()
    expect(await d.lookup('a')).toEqual({ name: 'a', url: 'https://a.tekton.local', actions: ['x'] })
    expect(await d.lookup('b')).toEqual({ name: 'b', url: 'http://b', actions: ['y', 'z'] })
    expect(await d.lookup('c')).toEqual({ name: 'c', url: 'http://c', actions: null })
  })

  it('answers null for a name Hermes does not know (404)', async () => {
    const { directory: d } = directory()
    expect(await d.lookup('nobody')).toBeNull()
  })

  it('URL-encodes the name', async () => {
    hermes.add('a b/c', { endpoint: 'http://x' })
    const { directory: d } = directory()
    expect(await d.lookup('a b/c')).toMatchObject({ url: 'http://x' })
    expect(hermes.requests.map((r) => r.path)).toEqual(['/api/components/a%20b%2Fc'])
  })
})

describe('cache', () => {
  it('keeps a hit for 60 s by default, then asks again', async () => {
    hermes.add('p', { endpoint: 'http://p' })
    const { directory: d, clock } = directory()
    await d.lookup('p')
    clock.now += 59_999
    expect(await d.lookup('p')).toMatchObject({ url: 'http://p' })
    expect(lookups('p')).toHaveLength(1)
    hermes.add('p', { endpoint: 'http://moved' })
    clock.now += 1
    expect(await d.lookup('p')).toMatchObject({ url: 'http://moved' })
    expect(lookups('p')).toHaveLength(2)
  })

  it('keeps a miss for 5 s by default, so a component registering later is found soon', async () => {
    const { directory: d, clock } = directory()
    expect(await d.lookup('late')).toBeNull()
    hermes.add('late', { endpoint: 'http://late' })
    clock.now += 4_999
    expect(await d.lookup('late')).toBeNull()
    expect(lookups('late')).toHaveLength(1)
    clock.now += 1
    expect(await d.lookup('late')).toMatchObject({ url: 'http://late' })
    expect(lookups('late')).toHaveLength(2)
  })

  it('takes its TTLs from the options, and forget drops an entry', async () => {
    hermes.add('p', { endpoint: 'http://p' })
    const { directory: d, clock } = directory({ ttlMs: 10, missTtlMs: 0 })
    await d.lookup('p')
    await d.lookup('none')
    await d.lookup('none')
    expect(lookups('none')).toHaveLength(2)
    clock.now += 10
    await d.lookup('p')
    d.forget('p')
    await d.lookup('p')
    expect(lookups('p')).toHaveLength(3)
  })

  it('shares one request among concurrent lookups of one name', async () => {
    hermes.add('p', { endpoint: 'http://p' })
    // The request is held until the gate opens: the later lookups come while it is out.
    const gate = deferred()
    let asked = 0
    const held: typeof fetch = async (input, init) => {
      asked++
      await gate.promise
      return fetch(input, init)
    }
    const { directory: d } = directory({ fetch: held })
    const first = d.lookup('p')
    await until(() => asked === 1, 'the first request')
    const later = [d.lookup('p'), d.lookup('p')]
    gate.resolve()
    const answers = await Promise.all([first, ...later])
    expect(answers).toEqual([answers[0], answers[0], answers[0]])
    expect(answers[0]).toMatchObject({ url: 'http://p' })
    expect(asked).toBe(1)
    expect(lookups('p')).toHaveLength(1)
  })
})

describe('Hermes unavailable', () => {
  it('throws UnavailableError naming Hermes when it is down, and works again once it is back', async () => {
    hermes.add('p', { endpoint: 'http://p' })
    const { directory: d } = directory()
    await hermes.stop()
    try {
      const error = await d.lookup('p').catch((e: unknown) => e)
      expect(error).toBeInstanceOf(UnavailableError)
      expect(error).toMatchObject({ code: 'unavailable', message: expect.stringContaining(`Hermes at ${hermes.url} cannot be reached`) })
    } finally {
      await hermes.start()
    }
    expect(await d.lookup('p')).toMatchObject({ url: 'http://p' })
  })

  it('throws UnavailableError for a 503, a malformed answer and a timeout; failures are not cached', async () => {
    hermes.add('p', { endpoint: 'http://p' })
    const { directory: d } = directory({ timeoutMs: 50 })
    hermes.failWith(503)
    await expect(d.lookup('p')).rejects.toThrow(/cannot be reached: it answered 503/)
    hermes.failWith(null)
    hermes.add('bad', { endpoint: 'not a url' })
    await expect(d.lookup('bad')).rejects.toThrow(UnavailableError)
    hermes.add('bad', { endpoint: 'http://x', capabilities: 'all' })
    await expect(d.lookup('bad')).rejects.toThrow(/capabilities that are not names/)
    const never: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason as Error)))
    const slow = createHermesDirectory({ url: hermes.url, timeoutMs: 20, fetch: never })
    await expect(slow.lookup('p')).rejects.toThrow(/no answer within 0.02 s/)
    // Hermes answers again: the next lookup asks (nothing was cached while it failed).
    expect(await d.lookup('p')).toMatchObject({ url: 'http://p' })
    expect(lookups('p')).toHaveLength(2)
  })

  it('rejects every concurrent lookup when the shared request fails', async () => {
    hermes.failWith(503)
    const { directory: d } = directory()
    const results = await Promise.allSettled([d.lookup('p'), d.lookup('p')])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(lookups('p')).toHaveLength(1)
  })
})
