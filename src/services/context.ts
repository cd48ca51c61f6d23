import type { Supervisor } from '../actors/supervisor.js'
import type { Cluster } from './cluster.js'
import type { Store } from '../db/store.js'
import { ConflictError, NotFoundError } from '../errors.js'
import type { Logger } from '../logger.js'
import { isUuid } from '../model/ids.js'

/** What every service of the facade shares: the store, the supervisor of this process, time and the log. */
export type ServiceContext = {
  store: Store
  supervisor: Supervisor
  logger: Logger
  /** This process's name as the owner of the executions it starts. */
  nodeId: string
  /** The lease a node holds an execution with, seconds (API.md "Several nodes"). */
  leaseSeconds: number
  /** Several nodes share the store: commands and events for executions held elsewhere (services/cluster.ts). */
  cluster?: Cluster
  now: () => number
  /** True once `close()` began: nothing new starts. */
  closed: () => boolean
}

/** ISO-8601 UTC of a time in milliseconds. */
export const iso = (ms: number): string => new Date(ms).toISOString()

/** An id that is not a UUID names nothing: 404 without a round trip (and never a malformed-uuid SQL error). */
export function requireId(kind: string, id: string): void {
  if (!isUuid(id)) throw new NotFoundError(kind, id)
}

/** Refuses new work once the engine is closing. */
export function assertOpen(ctx: ServiceContext): void {
  if (ctx.closed()) throw new ConflictError('harmonia is closed')
}
