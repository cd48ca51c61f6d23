import { Hono } from 'hono'
import type { UpgradeWebSocket } from 'hono/ws'
import type { Harmonia } from '../harmonia.js'
import type { Logger } from '../logger.js'
import { parseTypesQuery } from '../model/subscriptions.js'
import { executionEvents, resumeAfter } from './events.js'

export type WsDeps = { harmonia: Harmonia; upgradeWebSocket: UpgradeWebSocket; logger?: Logger }

/**
 * WebSocket (API.md "Events"), mounted at `/ws`: an execution's events as Event JSON text frames, with the same replay
 * as SSE (`?after=N`); closed with 1000 after the terminal event.
 */
export function wsRoutes({ harmonia, upgradeWebSocket, logger }: WsDeps) {
  return new Hono().get(
    '/executions/:id',
    async (c, next) => {
      parseTypesQuery(c.req.query('types')) // 422 instead of an upgrade for an unknown type
      await harmonia.getExecution(c.req.param('id')) // 404 instead of an upgrade for an unknown id
      return next()
    },
    upgradeWebSocket((c) => {
      const id = c.req.param('id')!
      const after = resumeAfter(undefined, c.req.query('after'))
      const types = parseTypesQuery(c.req.query('types'))
      const abort = new AbortController()
      return {
        onOpen: (_event, ws) => {
          void (async () => {
            try {
              for await (const event of executionEvents(harmonia, id, after, abort.signal, types)) ws.send(JSON.stringify(event))
              ws.close(1000, 'execution ended')
            } catch (error) {
              logger?.error('websocket stream failed', { execution_id: id, error: String(error) })
              ws.close(1011, 'internal error')
            }
          })()
        },
        onClose: () => abort.abort(),
        onError: () => abort.abort(),
      }
    }),
  )
}
