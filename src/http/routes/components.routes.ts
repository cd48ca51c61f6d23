import { Hono } from 'hono'
import { created } from '../audit.js'
import { readJson } from '../body.js'
import { objectBody, type RouteDeps } from './common.js'

/** `/components` (API.md "Remote components"): every source listed; API components created, replaced, deleted. */
export function componentRoutes({ harmonia, limits }: RouteDeps) {
  return new Hono()
    .post('/', async (c) => created(c, await harmonia.createComponent(objectBody(await readJson(c, limits)))))
    .get('/', async (c) => c.json(await harmonia.listComponents()))
    .get('/:name', async (c) => c.json(await harmonia.getComponent(c.req.param('name'))))
    .put('/:name', async (c) => c.json(await harmonia.replaceComponent(c.req.param('name'), objectBody(await readJson(c, limits)))))
    .delete('/:name', async (c) => {
      await harmonia.deleteComponent(c.req.param('name'))
      return c.body(null, 204)
    })
    .get('/:name/health', async (c) => c.json(await harmonia.componentHealth(c.req.param('name'))))
}
