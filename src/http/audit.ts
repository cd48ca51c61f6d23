import type { Context, MiddlewareHandler } from 'hono'
import type { Harmonia } from '../harmonia.js'
import type { Logger } from '../logger.js'
import { principalOf } from './auth.js'

const READS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * The id fields a created resource names itself by (API.md: ids named by kind; a component by its name), its own id
 * first: a checkpoint also names its execution, an execution its workflow, a subscription the workflow it filters on.
 */
const ID_FIELDS = ['subscription_id', 'checkpoint_id', 'execution_id', 'template_id', 'workflow_id', 'name'] as const

const SINGULAR: Record<string, string> = {
  workflows: 'workflow',
  executions: 'execution',
  templates: 'template',
  state: 'state',
  checkpoints: 'checkpoint',
  components: 'component',
  subscriptions: 'subscription',
}

/**
 * What a request did, from its method and path: `workflow.create`, `workflow.update`, `execution.pause`,
 * `task.complete`, … (`POST /api/executions` starts one: `execution.start`).
 */
export function actionOf(method: string, path: string): string {
  const segments = (/^\/api(?:\/v1)?(\/.*)$/.exec(path)?.[1] ?? path).split('/').filter(Boolean)
  const [collection = '', , verb, , taskVerb] = segments
  const resource = SINGULAR[collection] ?? collection
  if (segments[2] === 'tasks' && taskVerb) return `task.${taskVerb}`
  if (verb) return `${resource}.${verb}`
  if (method === 'POST')
    return resource === 'execution' ? 'execution.start' : resource === 'checkpoint' ? 'checkpoint.create' : `${resource}.create`
  if (method === 'PUT') return resource === 'state' ? 'state.save' : `${resource}.update`
  if (method === 'DELETE') return `${resource}.delete`
  return `${resource}.${method.toLowerCase()}`
}

/** The id each created resource's answer names, by request (set by `created`, read once the answer is out). */
const createdIds = new WeakMap<Request, string>()

/**
 * A 201 answer with `body`, remembering the id it names for the audit trail (without this, reading it back would
 * mean cloning and parsing the answer on every create).
 */
export function created(c: Context, body: object): Response {
  const record = body as Record<string, unknown>
  const field = ID_FIELDS.find((f) => typeof record[f] === 'string')
  if (field) createdIds.set(c.req.raw, record[field] as string)
  return c.json(body, 201)
}

/** The resource acted on: the created one for a 201 (named by `created`), else the id in the path. */
function targetOf(c: Context): string | null {
  const createdId = c.res.status === 201 ? createdIds.get(c.req.raw) : undefined
  if (createdId !== undefined) return createdId
  const id = (/^\/api(?:\/v1)?\/[^/]+\/([^/]+)/.exec(c.req.path) ?? [])[1]
  return id === undefined ? null : decodeURIComponent(id)
}

/**
 * Records every state-changing request in the audit trail once it has been answered (its status included, refusals
 * too): who (the principal's actor, never a token), what, on which resource. The entry is logged at once and written
 * with the next batch; a trail that cannot be written is logged, and the answer already given stands.
 */
export function auditTrail(harmonia: Harmonia, logger: Logger | undefined): MiddlewareHandler {
  return async (c, next) => {
    await next()
    const method = c.req.method
    if (READS.has(method) || !c.req.path.startsWith('/api/')) return
    const entry = {
      actor: principalOf(c)?.actor ?? 'unauthenticated',
      action: actionOf(method, c.req.path),
      method,
      path: c.req.path,
      target_id: targetOf(c),
      status: c.res.status,
    }
    // Not awaited: the answer does not wait for its audit entry (a round trip of its own); reading the trail waits for
    // the entries still being written (services/audit.ts).
    void harmonia
      .recordAudit(entry)
      .catch((error: unknown) => logger?.error('audit trail not written', { ...entry, error: String(error) }))
  }
}
