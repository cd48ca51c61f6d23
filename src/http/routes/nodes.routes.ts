import { Hono } from 'hono'
import type { RouteDeps } from './common.js'

/** `GET /nodes`: the Harmonia nodes sharing the database, with the executions each holds (API.md "Several nodes"). */
export function nodeRoutes({ harmonia }: RouteDeps) {
  return new Hono().get('/', async (c) => c.json(await harmonia.listNodes()))
}
