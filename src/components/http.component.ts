import { TerminalTaskError } from '../errors.js'
import { allowsHost } from './http-allow.js'
import { requestFailure, statusFailure } from './http-failure.js'
import { parseHttpInput, type HttpRequestSpec } from './http-input.js'
import { MAX_REDIRECTS, redirectOf } from './http-redirect.js'
import { decodeBody, headersOf, readCapped } from './http-response.js'
import type { Component, HandlerContext } from './handler.js'

export type HttpComponentOptions = {
  /** The largest response body accepted, bytes (default 10 MiB); a larger one fails with `response_too_large`. */
  maxResponseBytes?: number
  /** Host patterns every target must match (HARMONIA_HTTP_ALLOW, see allowsHost): undefined allows any host, [] none. */
  allow?: readonly string[]
  /** The clock for `Retry-After` dates (default Date.now). */
  now?: () => number
}

/** The output of `http.request`. */
export type HttpResponseOutput = { status: number; headers: Record<string, string | string[]>; body: unknown }

const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024
// A failed response is read only for its message: a few KiB say it, whatever the cap for results.
const MAX_ERROR_BODY_BYTES = 64 * 1024

/** How a request is named in messages and logs: without its query string, which may hold a key. */
const label = (spec: HttpRequestSpec) => `http.request: ${spec.method} ${spec.url.origin}${spec.url.pathname}`

/**
 * The built-in `http` component: `request` makes one HTTP call with Node's fetch and returns `{status, headers, body}`
 * (API.md "Built-ins"). Headers are never logged: they carry the workflow's credentials.
 */
export function createHttpComponent(options: HttpComponentOptions = {}): Component {
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new TypeError('maxResponseBytes must be a positive integer')
  const { allow, now = Date.now } = options

  function checkTarget(url: URL): void {
    if (allow !== undefined && !allowsHost(allow, url)) {
      throw new TerminalTaskError(`http.request: host ${url.host} is not allowed (HARMONIA_HTTP_ALLOW)`, { code: 'host_not_allowed' })
    }
  }

  const tooLarge = (spec: HttpRequestSpec) =>
    new TerminalTaskError(`${label(spec)}: the response is larger than ${maxBytes} bytes`, { code: 'response_too_large' })

  /** Reads the final response into the output, or throws its failure; `close` drops the connection when we stop early. */
  async function settle(spec: HttpRequestSpec, response: Response, close: () => void): Promise<HttpResponseOutput> {
    const ok = response.status < 400
    // A HEAD (or 204, 304) response has no body (`body` null) whatever its content-length says.
    if (ok && response.body !== null && Number(response.headers.get('content-length')) > maxBytes) {
      close()
      throw tooLarge(spec)
    }
    const bytes = await readCapped(response.body, ok ? maxBytes : Math.min(maxBytes, MAX_ERROR_BODY_BYTES))
    if (bytes === undefined) {
      close()
      if (ok) throw tooLarge(spec)
    }
    // A failed response cut at the cap cannot be parsed: its message falls back to the status line.
    const body = bytes === undefined ? undefined : decodeBody(bytes, response.headers.get('content-type'))
    if (!ok) throw statusFailure(response, body, now())
    return { status: response.status, headers: headersOf(response.headers), body }
  }

  async function request(input: unknown, ctx: HandlerContext): Promise<HttpResponseOutput> {
    let spec = parseHttpInput(input)
    // Aborting fetch's signal also closes the connection mid-body: `local` is how we stop reading a body too large.
    const local = new AbortController()
    const timeout = spec.timeoutMs === undefined ? undefined : { signal: AbortSignal.timeout(spec.timeoutMs), ms: spec.timeoutMs }
    const signal = AbortSignal.any([ctx.signal, local.signal, ...(timeout ? [timeout.signal] : [])])
    try {
      for (let hops = 0; ; hops++) {
        checkTarget(spec.url)
        const { method, url, headers, body } = spec
        const response = await fetch(url, { method, headers, body, redirect: 'manual', signal })
        ctx.logger.debug('http request answered', { request: label(spec), status: response.status })
        const next = redirectOf(spec, response)
        if (next === undefined) return await settle(spec, response, () => local.abort())
        await response.body?.cancel()
        if (hops === MAX_REDIRECTS) {
          throw new TerminalTaskError(`${label(spec)}: more than ${MAX_REDIRECTS} redirects`, { code: 'too_many_redirects' })
        }
        spec = next
      }
    } catch (error) {
      throw requestFailure(error, label(spec), { outer: ctx.signal, ...(timeout ? { timeout } : {}) })
    }
  }

  return { request }
}

/** The `http` built-in without an allow-list and with the default cap. */
export const httpComponent: Component = createHttpComponent()
