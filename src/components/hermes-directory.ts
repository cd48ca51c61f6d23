import { UnavailableError } from '../errors.js'
import { isPlainObject } from '../json.js'
import { readCapped } from './http-response.js'

/** A component Hermes knows (API.md "Hermes discovery"): called as a remote component without a secret. */
export type HermesComponent = { name: string; url: string; actions: string[] | null }

export type HermesDirectoryOptions = {
  /** HERMES_URL. */
  url: string
  /** How long a hit is used, ms (default 60 s, API.md). */
  ttlMs?: number
  /** How long a miss is remembered, ms (default 5 s: a component that registers is found soon after). */
  missTtlMs?: number
  /** The clock of the cache (default Date.now). */
  now?: () => number
  /** How long one question may take, answer included, ms (default 5 s). */
  timeoutMs?: number
  fetch?: typeof fetch
}

const DEFAULT_TTL_MS = 60_000
const DEFAULT_MISS_TTL_MS = 5_000
const DEFAULT_TIMEOUT_MS = 5_000
// Names come from workflows: each unknown one costs an entry (for missTtlMs), so the cache is bounded.
const MAX_ENTRIES = 1_000
const MAX_ANSWER_BYTES = 1024 * 1024

/** An answer that is not a component (a 5xx, a malformed body): Hermes is there but cannot be used. */
class UnusableAnswer extends Error {}

const isHttpUrl = (value: unknown): value is string => typeof value === 'string' && /^https?:\/\//i.test(value) && URL.canParse(value)

/** The component in Hermes's answer: `endpoint` (or `url`), and `capabilities` (or `actions`) as its actions. */
function componentOf(name: string, body: unknown): HermesComponent {
  if (!isPlainObject(body)) throw new UnusableAnswer('its answer is not a JSON object')
  const url = body.endpoint ?? body.url
  if (!isHttpUrl(url)) throw new UnusableAnswer(`its answer for ${name} has no absolute http(s) endpoint`)
  const listed = body.capabilities ?? body.actions
  if (listed === undefined || listed === null) return { name, url, actions: null }
  // Tekton components also announce capabilities as objects with a name (tekton.models.ComponentCapability).
  const actions = Array.isArray(listed)
    ? listed.map((item) => (typeof item === 'string' ? item : isPlainObject(item) ? item.name : undefined))
    : [undefined]
  if (!actions.every((action): action is string => typeof action === 'string' && action !== '')) {
    throw new UnusableAnswer(`its answer for ${name} lists capabilities that are not names`)
  }
  // An empty list says nothing about the actions (Hermes stores what components announce): any action is allowed.
  return { name, url, actions: actions.length === 0 ? null : [...new Set(actions)] }
}

/** Why a question got no usable answer, for the message (never the whole URL, which may hold credentials). */
function reasonOf(error: unknown, timeoutMs: number): string {
  if (error instanceof UnusableAnswer) return error.message
  if (error instanceof Error && error.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`
  // undici puts the socket error (ECONNREFUSED, …) under `fetch failed`.
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error
  return cause instanceof Error ? cause.message : String(cause)
}

/**
 * Looks components up in Hermes, the Tekton service registry: `GET {HERMES_URL}/api/components/{name}`. Hits are cached
 * for `ttlMs`, misses for `missTtlMs`; failures are not cached, so Hermes coming back is seen at the next lookup.
 * Concurrent lookups of one name share one request.
 */
export function createHermesDirectory(options: HermesDirectoryOptions) {
  if (!isHttpUrl(options.url)) throw new TypeError('the Hermes url must be an absolute http(s) URL')
  const base = options.url.replace(/\/+$/, '')
  const { origin, pathname } = new URL(base)
  const shown = `${origin}${pathname}`.replace(/\/+$/, '')
  const { ttlMs = DEFAULT_TTL_MS, missTtlMs = DEFAULT_MISS_TTL_MS, now = Date.now, timeoutMs = DEFAULT_TIMEOUT_MS } = options
  const fetchFn = options.fetch ?? fetch
  const cache = new Map<string, { component: HermesComponent | null; expiresAt: number }>()
  const inFlight = new Map<string, Promise<HermesComponent | null>>()

  async function ask(name: string): Promise<HermesComponent | null> {
    try {
      const response = await fetchFn(`${base}/api/components/${encodeURIComponent(name)}`, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      })
      if (response.status === 404) {
        await response.body?.cancel()
        return null
      }
      if (!response.ok) {
        await response.body?.cancel()
        throw new UnusableAnswer(`it answered ${response.status} ${response.statusText}`.trim())
      }
      const bytes = await readCapped(response.body, MAX_ANSWER_BYTES)
      if (bytes === undefined) throw new UnusableAnswer(`its answer is larger than ${MAX_ANSWER_BYTES} bytes`)
      let body: unknown
      try {
        body = JSON.parse(Buffer.from(bytes).toString('utf8'))
      } catch {
        throw new UnusableAnswer('its answer is not JSON')
      }
      return componentOf(name, body)
    } catch (error) {
      throw new UnavailableError(`Hermes at ${shown} cannot be reached: ${reasonOf(error, timeoutMs)}`, { cause: error })
    }
  }

  function remember(name: string, component: HermesComponent | null): void {
    cache.delete(name)
    cache.set(name, { component, expiresAt: now() + (component === null ? missTtlMs : ttlMs) })
    // Maps iterate in insertion order: the first key is the entry stored longest ago.
    if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!)
  }

  return {
    /** The component Hermes knows by `name`, null when it knows none; throws UnavailableError when Hermes cannot answer. */
    lookup(name: string): Promise<HermesComponent | null> {
      const cached = cache.get(name)
      if (cached !== undefined && now() < cached.expiresAt) return Promise.resolve(cached.component)
      const pending = inFlight.get(name)
      if (pending !== undefined) return pending
      const request: Promise<HermesComponent | null> = ask(name)
        .then((component) => {
          // A `forget` while the question was out drops its answer too.
          if (inFlight.get(name) === request) remember(name, component)
          return component
        })
        .finally(() => {
          if (inFlight.get(name) === request) inFlight.delete(name)
        })
      inFlight.set(name, request)
      return request
    },
    /** Drops what is known of `name`: the next lookup asks Hermes. */
    forget(name: string): void {
      cache.delete(name)
      inFlight.delete(name)
    },
  }
}
export type HermesDirectory = ReturnType<typeof createHermesDirectory>
