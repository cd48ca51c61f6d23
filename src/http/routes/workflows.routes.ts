import { Hono } from 'hono'
import { created } from '../audit.js'
import { readJson } from '../body.js'
import { listQuery, objectBody, queryInt, type RouteDeps } from './common.js'

/** `/workflows` (API.md "Workflows"). */
export function workflowRoutes({ harmonia, limits }: RouteDeps) {
  return new Hono()
    .post('/', async (c) => created(c, await harmonia.createWorkflow(objectBody(await readJson(c, limits)))))
    .get('/', async (c) => c.json(await harmonia.listWorkflows(listQuery(c))))
    .get('/:id', async (c) => {
      const version = queryInt(c, 'version')
      return c.json(await harmonia.getWorkflow(c.req.param('id'), version === undefined ? {} : { version }))
    })
    .get('/:id/versions', async (c) => c.json(await harmonia.listWorkflowVersions(c.req.param('id'), listQuery(c))))
    .get('/:id/schedules', async (c) => c.json(await harmonia.listSchedules(c.req.param('id'))))
    .put('/:id', async (c) => c.json(await harmonia.updateWorkflow(c.req.param('id'), objectBody(await readJson(c, limits)))))
    .delete('/:id', async (c) => {
      await harmonia.deleteWorkflow(c.req.param('id'))
      return c.body(null, 204)
    })
}
