import type { ExecutionEvent } from '../model/events.js'
import { HarmoniaApiError, problemOf } from './errors.js'
import { parseSse } from './sse.js'
import { seg, type Transport } from './transport.js'

/** The events after which an execution's stream ends (API.md "Events"). */
export const TERMINAL_EVENT_TYPES = ['workflow_completed', 'workflow_failed', 'workflow_canceled'] as const

export type WatchOptions = {
  /** Start after this `seq` (default 0: the whole history, then live events). */
  after?: number
  /** Stops the watch: the iterator ends (or the pending `next()` rejects with the abort reason). */
  signal?: AbortSignal
  /** Reconnections in a row without receiving an event before giving up (default 8). */
  maxRetries?: number
  /** The first reconnection delay in ms, doubled each time up to `maxDelayMs` (defaults 250 and 5,000). */
  initialDelayMs?: number
  maxDelayMs?: number
}

const isTerminal = (type: string): boolean => (TERMINAL_EVENT_TYPES as readonly string[]).includes(type)

/** Statuses worth another try: the server restarting, a proxy in between, rate limits. */
const retryableStatus = (status: number): boolean => status === 408 || status === 429 || status >= 500

/** Rejects with the signal's reason (whatever the caller aborted with, as fetch does). */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the abort reason, as given
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the abort reason, as given
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })

/**
 * The execution's events over SSE (`GET /events/executions/{id}`), in `seq` order, each once. A dropped connection is
 * resumed with `Last-Event-ID` (bounded retries with exponential backoff); the iteration ends after the terminal event.
 * Breaking out of the loop closes the connection.
 */
export async function* watchExecution(
  transport: Transport,
  executionId: string,
  options: WatchOptions = {},
): AsyncGenerator<ExecutionEvent> {
  const { maxRetries = 8, initialDelayMs = 250, maxDelayMs = 5_000, signal } = options
  const path = `/events/executions/${seg(executionId)}`
  let last = options.after ?? 0
  let failures = 0
  let serverDelay: number | undefined
  let lastError: unknown

  for (;;) {
    signal?.throwIfAborted()
    // One controller per connection, so leaving the loop early (break, throw, abort) closes exactly this request.
    const connection = new AbortController()
    const onAbort = () => connection.abort(signal?.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      const response = await transport.fetch(transport.urlOf(path), {
        headers: transport.headers({ Accept: 'text/event-stream', ...(last > 0 ? { 'Last-Event-ID': String(last) } : {}) }),
        signal: connection.signal,
      })
      if (!response.ok) {
        const error = new HarmoniaApiError(await problemOf(response), `GET ${path}`)
        if (!retryableStatus(response.status)) throw error
        lastError = error
      } else if (response.body) {
        for await (const frame of parseSse(response.body)) {
          if (frame.retry !== undefined) serverDelay = frame.retry
          if (!frame.data) continue
          const event = JSON.parse(frame.data) as ExecutionEvent
          // A replay after a reconnect starts after `last`; anything older (a server ignoring the header) is dropped.
          if (typeof event.seq === 'number' && event.seq <= last) continue
          last = event.seq
          failures = 0
          yield event
          if (isTerminal(event.type)) return
        }
        lastError = new Error(`event stream of execution ${executionId} ended before its terminal event`)
      }
    } catch (error) {
      if (error instanceof HarmoniaApiError && !retryableStatus(error.status)) throw error
      if (signal?.aborted) throw signal.reason
      if (error instanceof SyntaxError) throw error // a frame that is not JSON: retrying would read it again
      lastError = error
    } finally {
      signal?.removeEventListener('abort', onAbort)
      connection.abort()
    }
    failures++
    if (failures > maxRetries) throw lastError instanceof Error ? lastError : new Error(String(lastError))
    const backoff = Math.min(maxDelayMs, (serverDelay ?? initialDelayMs) * 2 ** (failures - 1))
    await sleep(backoff, signal)
  }
}
