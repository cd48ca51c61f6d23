import { HarmoniaError, UnavailableError } from '../errors.js'
import type { ClusterStore, Store } from './store.js'

/**
 * "The database cannot be reached" as one error at the store boundary (API.md: such requests answer 503 with
 * Retry-After, never 500). Driver errors that mean the server is down, unreachable or dropped the connection become
 * UnavailableError; every other error passes unchanged (StaleWriteError stays StaleWriteError).
 */

/**
 * Socket and name-resolution errors (node:net, node:dns) and postgres.js's own connection errors. A stopped Postgres
 * container loses its DNS name (ENOTFOUND, EAI_AGAIN: the operator's 500 on `docker stop`), a stopped server on a unix
 * socket loses its socket file (ENOENT, recognised by its `connect` syscall below).
 */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
])

/** SQLSTATEs: class 08 (connection exception), and the server shutting down or starting up (57P01–57P03). */
const UNREACHABLE_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[123])$/

/** Any failure to open a connection or resolve its host is "cannot reach", whatever its errno. */
const CONNECTING_SYSCALLS = new Set(['connect', 'getaddrinfo'])

/** Whether `error`, or an error it wraps (drizzle puts the driver's in `cause`), means the database cannot be reached. */
export function isUnreachable(error: unknown): boolean {
  const seen = new Set<unknown>()
  const queue: unknown[] = [error]
  while (queue.length > 0) {
    const e = queue.shift()
    if (e === null || typeof e !== 'object' || seen.has(e)) continue
    seen.add(e)
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || UNREACHABLE_SQLSTATE.test(code))) return true
    const syscall = (e as { syscall?: unknown }).syscall
    if (typeof syscall === 'string' && CONNECTING_SYSCALLS.has(syscall)) return true
    queue.push((e as { cause?: unknown }).cause)
    // Connecting to a name with several addresses fails with an AggregateError of one error per address.
    if (e instanceof AggregateError) queue.push(...(e.errors as unknown[]))
  }
  return false
}

function classified(error: unknown): unknown {
  return !(error instanceof HarmoniaError) && isUnreachable(error)
    ? new UnavailableError('the database cannot be reached', { cause: error })
    : error
}

function guard<A extends unknown[], R>(method: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await method(...args)
    } catch (error) {
      throw classified(error)
    }
  }
}

/** Every method of one namespace of the port, guarded. */
function guardAll<T extends Record<string, (...args: never[]) => Promise<unknown>>>(methods: T): T {
  const out: Record<string, unknown> = {}
  for (const [name, method] of Object.entries(methods)) out[name] = guard(method.bind(methods))
  return out as T
}

function guardCluster(cluster: ClusterStore): ClusterStore {
  const { commands, ...rest } = cluster
  return { ...guardAll(rest), commands: guardAll(commands) }
}

/** The store with every async method guarded: a driver error meaning "cannot reach the database" → UnavailableError. */
export function withAvailability(store: Store): Store {
  return {
    kind: store.kind,
    ...(store.location === undefined ? {} : { location: store.location }),
    workflows: guardAll(store.workflows),
    templates: guardAll(store.templates),
    executions: guardAll(store.executions),
    events: guardAll(store.events),
    state: guardAll(store.state),
    checkpoints: guardAll(store.checkpoints),
    components: guardAll(store.components),
    audit: guardAll(store.audit),
    signals: guardAll(store.signals),
    taskItems: guardAll(store.taskItems),
    schedules: guardAll(store.schedules),
    subscriptions: guardAll(store.subscriptions),
    ...(store.cluster ? { cluster: guardCluster(store.cluster) } : {}),
    commit: guard((batch) => store.commit(batch)),
    close: guard(() => store.close()),
  }
}
