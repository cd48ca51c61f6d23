import { TerminalTaskError } from '../errors.js'
import type { HttpRequestSpec } from './http-input.js'

/**
 * Redirects of the `http` built-in, followed by hand (fetch's `redirect: 'manual'`) so that every hop passes the host
 * allow-list before it is requested: with `redirect: 'follow'` an allowed host could send the call anywhere. The
 * rules are fetch's own (WHATWG Fetch, "HTTP-redirect fetch").
 */

/** The most hops fetch itself follows. */
export const MAX_REDIRECTS = 20

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])
// Dropped with the body when a redirect turns the request into a GET.
const BODY_HEADERS = ['content-type', 'content-encoding', 'content-language', 'content-location']
// Not sent to another origin: fetch drops Authorization, undici also the cookies and proxy credentials.
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization']

/** The request a response redirects to, or undefined when it is final (not a redirect, or one without `Location`). */
export function redirectOf(spec: HttpRequestSpec, response: { status: number; headers: Headers }): HttpRequestSpec | undefined {
  const { status } = response
  const location = response.headers.get('location')
  if (!REDIRECT_STATUSES.has(status) || location === null) return undefined
  const url = URL.canParse(location, spec.url.href) ? new URL(location, spec.url) : undefined
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) {
    throw new TerminalTaskError(`http.request: ${spec.url.origin} answered ${status} with a Location that is not an http(s) URL`, {
      code: 'invalid_redirect',
    })
  }
  const headers = new Headers(spec.headers)
  const toGet =
    ((status === 301 || status === 302) && spec.method === 'POST') || (status === 303 && spec.method !== 'GET' && spec.method !== 'HEAD')
  if (toGet) for (const name of BODY_HEADERS) headers.delete(name)
  if (url.origin !== spec.url.origin) for (const name of CREDENTIAL_HEADERS) headers.delete(name)
  return { ...spec, url, headers, ...(toGet ? { method: 'GET', body: undefined } : {}) }
}
