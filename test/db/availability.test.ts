import postgres from 'postgres'
import { describe, expect, it } from 'vitest'
import { isUnreachable, withAvailability } from '../../src/db/availability.js'
import { createMemoryStore } from '../../src/db/memory.store.js'
import type { Store } from '../../src/db/store.js'
import { StaleWriteError, UnavailableError } from '../../src/errors.js'

/** Which driver errors mean "cannot reach the database", and the store boundary that turns them into UnavailableError. */

const coded = (code: string, message = code) => Object.assign(new Error(message), { code })
/** drizzle wraps the driver's error: `Failed query: …` with the original in `cause`. */
const wrapped = (cause: unknown) => new Error('Failed query: select 1', { cause })

describe('isUnreachable', () => {
  it.each([
    'ECONNREFUSED',
    'ECONNRESET',
    'ETIMEDOUT',
    'EPIPE',
    'CONNECTION_CLOSED',
    'CONNECTION_ENDED',
    'CONNECTION_DESTROYED',
    'CONNECT_TIMEOUT',
    'ENOTFOUND',
    'EAI_AGAIN',
    'ECONNABORTED',
    'ENETDOWN',
    '08006',
    '08001',
    '08P01',
    '57P01',
    '57P02',
    '57P03',
  ])('%s, bare or wrapped by drizzle', (code) => {
    expect(isUnreachable(coded(code))).toBe(true)
    expect(isUnreachable(wrapped(coded(code)))).toBe(true)
  })

  it.each(['23505', '22012', '40001', '57014', '42P01', 'stale_write', 'ENOENT'])('%s is not', (code) => {
    expect(isUnreachable(coded(code))).toBe(false)
    expect(isUnreachable(wrapped(coded(code)))).toBe(false)
  })

  it('counts any error of connecting or resolving the host (a unix socket file gone: ENOENT on connect)', () => {
    const onConnect = Object.assign(coded('ENOENT', 'connect ENOENT /run/postgresql/.s.PGSQL.5432'), { syscall: 'connect' })
    expect(isUnreachable(onConnect)).toBe(true)
    expect(isUnreachable(wrapped(onConnect))).toBe(true)
    expect(isUnreachable(Object.assign(coded('ENOENT'), { syscall: 'open' }))).toBe(false)
  })

  it("recognises postgres.js's own errors for a host that does not resolve and a socket that is not there", async () => {
    const tryConnect = async (url: string, options: { path?: string } = {}) => {
      const sql = postgres(url, { max: 1, connect_timeout: 10, ...options })
      try {
        return await sql`select 1`.then(
          () => undefined,
          (error: unknown) => error,
        )
      } finally {
        await sql.end({ timeout: 1 })
      }
    }
    // A name that never resolves (RFC 6761 reserves .invalid): a stopped container's service name looks like this.
    const unresolved = await tryConnect('postgres://postgres@harmonia-no-such-host.invalid:5432/postgres')
    expect(unresolved).toMatchObject({ code: 'ENOTFOUND' })
    expect(isUnreachable(unresolved)).toBe(true)
    const noSocket = await tryConnect('postgres://postgres@localhost/postgres', { path: '/nonexistent-harmonia/.s.PGSQL.5432' })
    expect(noSocket).toMatchObject({ code: 'ENOENT', syscall: 'connect' })
    expect(isUnreachable(noSocket)).toBe(true)
  })

  it('looks into the errors of an AggregateError (one per address tried), and survives a cycle', () => {
    expect(isUnreachable(new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')], 'connect failed'))).toBe(true)
    const a = new Error('a') as Error & { cause?: unknown }
    a.cause = new Error('b', { cause: a })
    expect(isUnreachable(a)).toBe(false)
    expect(isUnreachable(undefined)).toBe(false)
    expect(isUnreachable('ECONNREFUSED')).toBe(false)
  })
})

describe('withAvailability', () => {
  const failing = (error: unknown): Store => {
    const store = createMemoryStore()
    return {
      ...store,
      commit: async () => {
        throw error
      },
      executions: {
        ...store.executions,
        get: async () => {
          throw error
        },
      },
    }
  }

  it('turns an unreachable database into UnavailableError, keeping the driver error as cause', async () => {
    const driver = wrapped(coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'))
    const store = withAvailability(failing(driver))
    const error = await store.executions.get('x').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UnavailableError)
    expect(error).toMatchObject({ code: 'unavailable', message: 'the database cannot be reached', cause: driver })
    await expect(store.commit({} as never)).rejects.toBeInstanceOf(UnavailableError)
  })

  it('passes every other error unchanged: StaleWriteError stays StaleWriteError', async () => {
    const stale = new StaleWriteError('execution', 'e', 1)
    await expect(withAvailability(failing(stale)).commit({} as never)).rejects.toBe(stale)
    const unique = wrapped(coded('23505'))
    await expect(withAvailability(failing(unique)).executions.get('x')).rejects.toBe(unique)
  })

  it('leaves results and the store kind as they are', async () => {
    const store = withAvailability(createMemoryStore())
    expect(store.kind).toBe('memory')
    expect(await store.executions.get('nope')).toBeUndefined()
    expect(await store.workflows.list({ limit: 1, offset: 0 })).toEqual({ items: [], total: 0 })
  })
})
