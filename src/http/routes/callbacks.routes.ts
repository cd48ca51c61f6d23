import { Hono, type Context } from 'hono'
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../components/signature.js'
import { isTrusted, setActor } from '../auth.js'
import { readJsonText } from '../body.js'
import type { RouteDeps } from './common.js'

/** The body as received and how the caller proved itself: the service checks it against the task's component. */
async function callbackOf(c: Context, deps: RouteDeps) {
  const { text, value } = await readJsonText(c, deps.limits)
  const auth = {
    raw: text,
    signature: { timestamp: c.req.header(TIMESTAMP_HEADER), signature: c.req.header(SIGNATURE_HEADER) },
    trusted: isTrusted(c),
    identify: (component: string) => setActor(c, `component:${component}`),
  }
  return { body: value, auth }
}

/** `/executions/{id}/tasks/{task_id}/complete|fail` (API.md "Callbacks"): a component settles an attempt it answered 202 for. */
export function callbackRoutes(deps: RouteDeps) {
  const { harmonia } = deps
  return new Hono()
    .post('/:id/tasks/:taskId/complete', async (c) => {
      const { body, auth } = await callbackOf(c, deps)
      return c.json(await harmonia.completeTask(c.req.param('id'), c.req.param('taskId'), body, auth))
    })
    .post('/:id/tasks/:taskId/fail', async (c) => {
      const { body, auth } = await callbackOf(c, deps)
      return c.json(await harmonia.failTask(c.req.param('id'), c.req.param('taskId'), body, auth))
    })
}
