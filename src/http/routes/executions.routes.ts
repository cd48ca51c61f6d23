import { Hono } from 'hono'
import { created } from '../audit.js'
import { readJson } from '../body.js'
import { parseWith } from '../../model/parse.js'
import { RerunBody, StartExecutionBody } from '../schemas.js'
import { listQuery, objectBody, queryStatus, type RouteDeps } from './common.js'

/** `/executions` (API.md "Executions"). */
export function executionRoutes({ harmonia, limits }: RouteDeps) {
  return new Hono()
    .post('/', async (c) => {
      const body = parseWith(StartExecutionBody, objectBody(await readJson(c, limits)))
      const request = {
        workflow_id: body.workflow_id,
        ...(body.input !== undefined ? { input: body.input } : {}),
        ...(body.version !== undefined ? { version: body.version } : {}),
        ...(body.metadata !== undefined ? { metadata: body.metadata } : {}),
        ...(c.req.header('traceparent') ? { traceparent: c.req.header('traceparent')! } : {}),
      }
      return created(c, await harmonia.startExecution(request))
    })
    .get('/', async (c) => {
      const status = queryStatus(c)
      const workflowId = c.req.query('workflow_id')
      return c.json(
        await harmonia.listExecutions({
          ...listQuery(c),
          ...(status ? { status } : {}),
          ...(workflowId ? { workflow_id: workflowId } : {}),
        }),
      )
    })
    .get('/:id', async (c) => c.json(await harmonia.getExecution(c.req.param('id'))))
    .post('/:id/cancel', async (c) => c.json(await harmonia.cancelExecution(c.req.param('id')), 202))
    .post('/:id/pause', async (c) => c.json(await harmonia.pauseExecution(c.req.param('id')), 202))
    .post('/:id/resume', async (c) => c.json(await harmonia.resumeExecution(c.req.param('id')), 202))
    .post('/:id/rerun', async (c) => {
      const body = await readJson(c, limits)
      const request = body === undefined ? {} : parseWith(RerunBody, objectBody(body))
      return created(c, await harmonia.rerunExecution(c.req.param('id'), request))
    })
    .get('/:id/history', async (c) => c.json(await harmonia.getExecutionHistory(c.req.param('id'))))
}
