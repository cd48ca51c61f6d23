import { Hono } from 'hono'
import { created } from '../audit.js'
import { readJson } from '../body.js'
import { listQuery, objectBody, type RouteDeps } from './common.js'

/** `/subscriptions` (API.md "Event subscriptions"): webhooks created (admin), listed, read, deleted (admin). */
export function subscriptionRoutes({ harmonia, limits }: RouteDeps) {
  return new Hono()
    .post('/', async (c) => created(c, await harmonia.createSubscription(objectBody(await readJson(c, limits)))))
    .get('/', async (c) => {
      const { filter: _, ...page } = listQuery(c)
      return c.json(await harmonia.listSubscriptions(page))
    })
    .get('/:id', async (c) => c.json(await harmonia.getSubscription(c.req.param('id'))))
    .delete('/:id', async (c) => {
      await harmonia.deleteSubscription(c.req.param('id'))
      return c.body(null, 204)
    })
}
