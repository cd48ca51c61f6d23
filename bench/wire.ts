/**
 * The HTTP side of the multi-node bench (nodes.ts): JSON requests to a node, and the wait for an execution's terminal
 * event on its SSE stream (API.md "Events": `GET /events/executions/{id}`), all abortable so a timed-out
 * measurement leaves nothing pending.
 */

/** Thrown when a measurement runs past its deadline: the table says "timeout". */
export class Timeout extends Error {
  override name = 'Timeout'
}

/** A JSON request; throws on a non-2xx status with the body's start. */
export async function json<T = any>(url: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const response = await fetch(url, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    ...(signal ? { signal } : {}),
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`${response.status} from ${url}: ${text.slice(0, 300)}`)
  return JSON.parse(text) as T
}

const TERMINAL = 'workflow_completed,workflow_failed,workflow_canceled'

/**
 * Opens `{node}/events/executions/{id}?types=<terminal events>` and resolves with the type of the terminal event
 * (`workflow_completed`, …) once it arrives. Rejects when the stream ends without one or `signal` aborts.
 */
export async function terminalEvent(node: string, executionId: string, signal: AbortSignal): Promise<string> {
  const response = await fetch(`${node}/events/executions/${executionId}?types=${TERMINAL}`, { signal })
  if (!response.ok || response.body === null) throw new Error(`SSE ${response.status} from ${node}`)
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) throw new Error(`the SSE stream on ${node} ended without a terminal event`)
      buffer += value
      // Frames end with a blank line; only `event:` lines matter here (keep-alives are comments).
      let end: number
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const type = frame
          .split('\n')
          .find((line) => line.startsWith('event:'))
          ?.slice(6)
          .trim()
        if (type !== undefined && TERMINAL.includes(type)) return type
      }
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
}

/** Runs `fn` with a signal that aborts after `ms`; a run past it rejects with Timeout. */
export async function withDeadline<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort()
      reject(new Timeout(`past ${ms / 1000} s`))
    }, ms)
  })
  try {
    return await Promise.race([fn(abort.signal), expired])
  } finally {
    clearTimeout(timer)
    abort.abort() // whatever fn left open (a poll, a stream) ends with it
  }
}

/** Waits `ms` unless `signal` aborts first (then rejects). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Timeout('aborted'))
    const aborted = () => (clearTimeout(timer), reject(new Timeout('aborted')))
    // Removed once the pause is over: a paced loop pauses thousands of times on one signal.
    const timer = setTimeout(() => (signal.removeEventListener('abort', aborted), resolve()), ms)
    signal.addEventListener('abort', aborted, { once: true })
  })
}
