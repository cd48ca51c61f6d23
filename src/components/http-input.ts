import { TerminalTaskError } from '../errors.js'
import { appendPath, isPlainObject } from '../json.js'

/** The input of `http.request`, checked and ready for fetch. */
export type HttpRequestSpec = {
  method: HttpMethod
  url: URL
  headers: Headers
  /** Serialised already: a string as given, anything else as JSON. */
  body: string | undefined
  /** The per-request timeout, ms. */
  timeoutMs: number | undefined
}

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const
export type HttpMethod = (typeof HTTP_METHODS)[number]

const FIELDS = ['method', 'url', 'headers', 'query', 'body', 'timeout']
// Node's timers fire at once for a delay past 2^31 - 1 ms (about 24.8 days): a longer timeout would be no timeout.
const MAX_TIMEOUT_MS = 2 ** 31 - 1

const invalid = (field: string, reason: string) => new TerminalTaskError(`http.request: ${field} ${reason}`, { code: 'invalid_input' })

function parseMethod(raw: unknown): HttpMethod {
  if (raw === undefined) return 'GET'
  const method = typeof raw === 'string' ? raw.toUpperCase() : raw
  const known = HTTP_METHODS.find((m) => m === method)
  if (!known) throw invalid('method', `must be one of ${HTTP_METHODS.join(', ')}`)
  return known
}

function parseUrl(raw: unknown): URL {
  const url = typeof raw === 'string' && URL.canParse(raw) ? new URL(raw) : undefined
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw invalid('url', 'must be an absolute http(s) URL')
  // fetch refuses such URLs with a TypeError, which would read as a retryable network failure.
  if (url.username || url.password) throw invalid('url', 'must not hold credentials (send them in headers)')
  return url
}

function appendQuery(url: URL, raw: unknown): void {
  if (raw === undefined) return
  if (!isPlainObject(raw)) throw invalid('query', 'must be an object')
  for (const [key, value] of Object.entries(raw)) {
    // An array repeats the key (`?tag=a&tag=b`), as most servers read lists.
    const values: unknown[] = Array.isArray(value) ? value : [value]
    values.forEach((item, i) => {
      if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean') {
        const field = Array.isArray(value) ? appendPath(appendPath('query', key), i) : appendPath('query', key)
        throw invalid(field, 'must be a string, a number, a boolean or an array of them')
      }
      url.searchParams.append(key, String(item))
    })
  }
}

function parseHeaders(raw: unknown): Headers {
  const headers = new Headers()
  if (raw === undefined) return headers
  if (!isPlainObject(raw)) throw invalid('headers', 'must be an object of strings')
  for (const [name, value] of Object.entries(raw)) {
    const field = appendPath('headers', name)
    if (typeof value !== 'string') throw invalid(field, 'must be a string')
    try {
      headers.append(name, value)
    } catch {
      // The value may be a secret: the message names the header only.
      throw invalid(field, 'is not a valid header name and value')
    }
  }
  return headers
}

function parseTimeout(raw: unknown): number | undefined {
  if (raw === undefined) return undefined
  const ms = typeof raw === 'number' ? Math.ceil(raw * 1000) : NaN
  if (!(ms > 0 && ms <= MAX_TIMEOUT_MS))
    throw invalid('timeout', `must be a number of seconds above 0 and at most ${MAX_TIMEOUT_MS / 1000}`)
  return ms
}

/** Encodes `body`: a string as is (text/plain unless given), any other JSON value as JSON. */
function encodeBody(raw: unknown, method: HttpMethod, headers: Headers): string | undefined {
  if (raw === undefined) return undefined
  if (method === 'GET' || method === 'HEAD') throw invalid('body', `is not allowed with ${method}`)
  const text = typeof raw === 'string' ? raw : JSON.stringify(raw)
  if (typeof text !== 'string') throw invalid('body', 'must be JSON')
  if (!headers.has('content-type')) headers.set('content-type', typeof raw === 'string' ? 'text/plain; charset=utf-8' : 'application/json')
  return text
}

/** Checks the input of `http.request`; a bad field fails for good (`invalid_input`) with a message naming it. */
export function parseHttpInput(input: unknown): HttpRequestSpec {
  if (!isPlainObject(input)) throw invalid('input', 'must be an object with at least a url')
  // An unknown field is most likely a typo (`header`, `params`): refusing it beats silently sending less.
  const unknown = Object.keys(input).find((key) => !FIELDS.includes(key))
  if (unknown !== undefined) throw invalid(appendPath('input', unknown), `is not a field of http.request (${FIELDS.join(', ')})`)
  const method = parseMethod(input.method)
  const url = parseUrl(input.url)
  appendQuery(url, input.query)
  const headers = parseHeaders(input.headers)
  return { method, url, headers, body: encodeBody(input.body, method, headers), timeoutMs: parseTimeout(input.timeout) }
}
