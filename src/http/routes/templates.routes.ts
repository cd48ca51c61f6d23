import { Hono } from 'hono'
import { created } from '../audit.js'
import { readJson } from '../body.js'
import { listQuery, objectBody, queryInt, type RouteDeps } from './common.js'

/** `/templates` (API.md "Templates"). */
export function templateRoutes({ harmonia, limits }: RouteDeps) {
  return new Hono()
    .post('/', async (c) => created(c, await harmonia.createTemplate(objectBody(await readJson(c, limits)))))
    .get('/', async (c) => c.json(await harmonia.listTemplates(listQuery(c))))
    .get('/:id', async (c) => {
      const version = queryInt(c, 'version')
      return c.json(await harmonia.getTemplate(c.req.param('id'), version === undefined ? {} : { version }))
    })
    .put('/:id', async (c) => c.json(await harmonia.updateTemplate(c.req.param('id'), objectBody(await readJson(c, limits)))))
    .delete('/:id', async (c) => {
      await harmonia.deleteTemplate(c.req.param('id'))
      return c.body(null, 204)
    })
    .post('/:id/instantiate', async (c) => {
      const body = await readJson(c, limits)
      return created(c, await harmonia.instantiateTemplate(c.req.param('id'), body === undefined ? {} : objectBody(body)))
    })
}
