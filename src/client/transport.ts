import { HarmoniaApiError, problemOf } from './errors.js'

/** Where and how the client reaches Harmonia. */
export type ClientOptions = {
  /** The server's base URL (default: `HARMONIA_URL`, else http://127.0.0.1:8007). A path prefix is kept. */
  url?: string
  /** Sent as `Authorization: Bearer <token>` when given. */
  token?: string
  /** The fetch to use (default: the global one). Tests and proxies can pass their own. */
  fetch?: typeof globalThis.fetch
  /** Headers added to every request. */
  headers?: Record<string, string>
}

export const DEFAULT_URL = 'http://127.0.0.1:8007'

type QueryValue = string | number | boolean | undefined | null
export type Query = Record<string, QueryValue>

export type RequestOptions = { query?: Query; body?: unknown; signal?: AbortSignal }

/** The base URL from the options or the environment, without a trailing slash. */
function baseUrlOf(options: ClientOptions): string {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
  const url = options.url ?? env?.HARMONIA_URL ?? DEFAULT_URL
  return url.replace(/\/+$/, '')
}

/** The HTTP layer every client method goes through: JSON in, JSON out, problem+json → HarmoniaApiError. */
export function createTransport(options: ClientOptions = {}) {
  const baseUrl = baseUrlOf(options)
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis)

  function headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...options.headers,
      ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
      ...extra,
    }
  }

  function urlOf(path: string, query: Query = {}): string {
    const params = new URLSearchParams()
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null) params.set(key, String(value))
    }
    const search = params.toString()
    return `${baseUrl}${path}${search ? `?${search}` : ''}`
  }

  return {
    baseUrl,
    fetch: doFetch,
    headers,
    urlOf,

    /** Sends one request; resolves with the parsed JSON body, or undefined for 204. */
    async request<T>(method: string, path: string, request: RequestOptions = {}): Promise<T> {
      const hasBody = request.body !== undefined
      const response = await doFetch(urlOf(path, request.query), {
        method,
        headers: headers({ Accept: 'application/json', ...(hasBody ? { 'Content-Type': 'application/json' } : {}) }),
        ...(hasBody ? { body: JSON.stringify(request.body) } : {}),
        ...(request.signal ? { signal: request.signal } : {}),
      })
      if (!response.ok) throw new HarmoniaApiError(await problemOf(response), `${method} ${path}`)
      if (response.status === 204) {
        await response.body?.cancel()
        return undefined as T
      }
      const text = await response.text()
      return (text ? JSON.parse(text) : undefined) as T
    },
  }
}
export type Transport = ReturnType<typeof createTransport>

/** A path segment from an id: ids are UUIDs, but whatever a caller passes must not change the path. */
export const seg = (id: string): string => encodeURIComponent(id)
