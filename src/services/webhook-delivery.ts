import { allowsHost } from '../components/http-allow.js'
import { failureMessage, parseRetryAfter } from '../components/http-failure.js'
import { decodeBody, readCapped } from '../components/http-response.js'
import { signatureHeaders } from '../components/signature.js'
import type { ExecutionEvent } from '../model/events.js'

/** One POST of one event to a subscription's receiver, signed as component calls are (API.md "The call"). */

export type DeliveryTarget = { subscription_id: string; url: string; secret: string | null }
export type DeliveryResult = { ok: true } | { ok: false; error: string; retryAfterMs?: number }

export type DeliveryOptions = {
  now: () => number
  /** HARMONIA_HTTP_ALLOW's host patterns; undefined: any host. */
  allow: readonly string[] | undefined
  /** How long one POST may take, ms (default 10 s). */
  timeoutMs?: number
  signal?: AbortSignal
}

// A receiver's answer is read only for its error message.
const MAX_ANSWER_BYTES = 16 * 1024

/**
 * POSTs `event` as its Event JSON. 2xx → delivered; anything else (3xx included: redirects are not followed, the URL is
 * the one the subscription names), a timeout or a connection error → failed, with `Retry-After` on 429 and 503.
 * The message never holds the URL's query (it may carry the receiver's token) nor the signature.
 */
export async function deliverEvent(target: DeliveryTarget, event: ExecutionEvent, options: DeliveryOptions): Promise<DeliveryResult> {
  const url = new URL(target.url)
  if (options.allow !== undefined && !allowsHost(options.allow, url)) {
    return { ok: false, error: `host ${url.host} is not allowed (HARMONIA_HTTP_ALLOW)` }
  }
  const body = JSON.stringify(event)
  const now = options.now()
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-harmonia-subscription': target.subscription_id,
    'x-harmonia-event': event.type,
    // Receivers drop a repeated delivery by this key (delivery is at least once).
    'idempotency-key': `${target.subscription_id}:${event.execution_id}:${event.seq}`,
    ...(target.secret === null ? { 'X-Harmonia-Timestamp': String(Math.floor(now / 1000)) } : signatureHeaders(target.secret, body, now)),
  }
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000)
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
    })
    const bytes = await readCapped(response.body, MAX_ANSWER_BYTES).catch(() => undefined)
    if (bytes === undefined) await response.body?.cancel().catch(() => {})
    if (response.status >= 200 && response.status < 300) return { ok: true }
    const decoded = bytes === undefined ? undefined : decodeBody(bytes, response.headers.get('content-type'))
    const error = `HTTP ${response.status}: ${failureMessage(response.status, response.statusText, decoded)}`
    const retryAfterMs =
      response.status === 429 || response.status === 503 ? parseRetryAfter(response.headers.get('retry-after'), options.now()) : undefined
    return { ok: false, error, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) }
  } catch (error) {
    if (timeout.aborted) return { ok: false, error: `no answer within ${(options.timeoutMs ?? 10_000) / 1000} s` }
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error)
    return { ok: false, error: `request failed: ${cause}` }
  }
}
