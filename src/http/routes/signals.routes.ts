import { Hono } from 'hono'
import { readJson } from '../body.js'
import type { RouteDeps } from './common.js'

/** `/executions/{id}/signals` (API.md "Signals and approvals"). */
export function signalRoutes({ harmonia, limits }: RouteDeps) {
  return new Hono()
    .post('/:id/signals/:name', async (c) => {
      const body = await readJson(c, limits)
      return c.json(await harmonia.sendSignal(c.req.param('id'), c.req.param('name'), body ?? {}), 202)
    })
    .get('/:id/signals', async (c) => c.json(await harmonia.listSignals(c.req.param('id'))))
}
