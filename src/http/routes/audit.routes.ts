import { Hono } from 'hono'
import { listQuery, type RouteDeps } from './common.js'

/** `GET /audit?limit&offset&target_id&actor` (admin): the trail of state-changing requests, newest first. */
export function auditRoutes({ harmonia }: RouteDeps) {
  return new Hono().get('/', async (c) => {
    const targetId = c.req.query('target_id')
    const actor = c.req.query('actor')
    return c.json(await harmonia.listAudit({ ...listQuery(c), ...(targetId ? { target_id: targetId } : {}), ...(actor ? { actor } : {}) }))
  })
}
