import { Hono, type Context } from 'hono'
import { streamSSE, type SSEStreamingApi } from 'hono/streaming'
import type { Harmonia } from '../harmonia.js'
import type { ExecutionEvent } from '../model/events.js'
import { ValidationError } from '../errors.js'
import { isUuid } from '../model/ids.js'
import { parseTypesQuery } from '../model/subscriptions.js'
import { allExecutionEventBatches, executionEventBatches, resumeAfter } from './events.js'

/**
 * One SSE frame, as hono's `writeSSE` spells it (`event`, `data`, `id`). The data is one line of JSON (JSON.stringify
 * never writes a line break) and event types and ids have none either.
 */
const frame = (event: string, id: string, data: string) => `event: ${event}\ndata: ${data}\nid: ${id}\n\n`

export type SseDeps = { harmonia: Harmonia; /** Keep-alive comment interval, ms. */ keepAliveMs: number }

/** Server-sent events (API.md "Events"), mounted at `/events`: one execution's log, and every execution live. */
export function sseRoutes({ harmonia, keepAliveMs }: SseDeps) {
  /**
   * Writes the batches of events `open` yields as SSE frames until they end or the client leaves (which aborts the
   * signal and so ends the subscription), with a comment line every `keepAliveMs`. A batch (the stored history, or what
   * one commit added) goes out as one write; every write is awaited, in order.
   */
  const eventStream = (
    c: Context,
    idOf: (event: ExecutionEvent) => string,
    open: (signal: AbortSignal, stream: SSEStreamingApi) => AsyncIterable<ExecutionEvent[]>,
  ) =>
    streamSSE(c, async (stream) => {
      const abort = new AbortController()
      stream.onAbort(() => abort.abort())
      harmonia.metrics.sseOpened()
      const keepAlive = setInterval(() => {
        stream.write(': keep-alive\n\n').catch(() => abort.abort())
      }, keepAliveMs)
      try {
        for await (const batch of open(abort.signal, stream)) {
          await stream.write(batch.map((event) => frame(event.type, idOf(event), JSON.stringify(event))).join(''))
        }
      } finally {
        clearInterval(keepAlive)
        harmonia.metrics.sseClosed()
      }
    })

  return (
    new Hono()
      // Every execution's events, live, for dashboards: no replay, no end. `: connected` is sent once subscribed.
      // `?workflow_id=` and `?types=` keep only those events (checked before the stream opens: 422).
      .get('/executions', (c) => {
        const types = parseTypesQuery(c.req.query('types'))
        const workflowId = c.req.query('workflow_id') || undefined
        if (workflowId !== undefined && !isUuid(workflowId))
          throw new ValidationError([{ path: 'workflow_id', message: 'workflow_id must be a UUID' }], 'Invalid query')
        const filter = { ...(workflowId ? { workflowId } : {}), ...(types ? { types } : {}) }
        return eventStream(
          c,
          (event) => `${event.execution_id}:${event.seq}`,
          (signal, stream) =>
            allExecutionEventBatches(harmonia, { signal, subscribed: async () => void (await stream.write(': connected\n\n')) }, filter),
        )
      })
      .get('/executions/:id', async (c) => {
        const id = c.req.param('id')
        const types = parseTypesQuery(c.req.query('types'))
        await harmonia.getExecution(id) // 404 before the stream opens
        const after = resumeAfter(c.req.header('last-event-id'), c.req.query('after'))
        return eventStream(
          c,
          (event) => String(event.seq),
          (signal) => executionEventBatches(harmonia, id, after, signal, types),
        )
      })
  )
}
