import { Hono } from 'hono'
import { created } from '../audit.js'
import { readJson } from '../body.js'
import { parseWith } from '../../model/parse.js'
import { CheckpointBody, SaveStateBody } from '../schemas.js'
import { listQuery, objectBody, type RouteDeps } from './common.js'

/** `/state` (API.md "State and checkpoints"). */
export function stateRoutes({ harmonia, limits }: RouteDeps) {
  return new Hono()
    .get('/:executionId', async (c) => c.json(await harmonia.loadState(c.req.param('executionId'))))
    .put('/:executionId', async (c) => {
      const body = parseWith(SaveStateBody, objectBody(await readJson(c, limits)))
      return c.json(await harmonia.saveState(c.req.param('executionId'), body.state))
    })
}

/** `/checkpoints` (API.md "State and checkpoints"). */
export function checkpointRoutes({ harmonia, limits }: RouteDeps) {
  return new Hono()
    .post('/', async (c) => {
      const body = parseWith(CheckpointBody, objectBody(await readJson(c, limits)))
      return created(c, await harmonia.createCheckpoint(body.execution_id))
    })
    .get('/', async (c) => {
      const executionId = c.req.query('execution_id')
      return c.json(await harmonia.listCheckpoints({ ...listQuery(c), ...(executionId ? { execution_id: executionId } : {}) }))
    })
    .get('/:id', async (c) => c.json(await harmonia.getCheckpoint(c.req.param('id'))))
    .post('/:id/restore', async (c) => created(c, await harmonia.restoreFromCheckpoint(c.req.param('id'))))
}
