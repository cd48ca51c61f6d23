import { hostname } from 'node:os'
import type { Logger } from '../logger.js'

/** Capabilities Harmonia announces to Hermes (API.md "Hermes"). */
export const HERMES_CAPABILITIES = [
  'create_workflow',
  'execute_workflow',
  'get_workflow_status',
  'cancel_workflow',
  'save_state',
  'load_state',
  'create_checkpoint',
] as const

export type HermesOptions = {
  url: string
  port: number
  version: string
  logger: Logger
  /** Heartbeat period, ms (default 30 s). */
  heartbeatMs?: number
  /** The endpoint announced (default http://<hostname>:<port>). */
  endpoint?: string
}

/**
 * Registration with Hermes, the Tekton service registry: register at start (retrying with backoff while Hermes is
 * down — Harmonia runs regardless), heartbeat every 30 s, unregister on shutdown.
 */
export function startHermes(options: HermesOptions) {
  const base = options.url.replace(/\/+$/, '')
  const state = { registered: false, componentId: null as string | null, token: null as string | null }
  let timer: NodeJS.Timeout | null = null
  let stopped = false
  let delay = 1000

  /** A POST to Hermes: a JSON body when there is one (unregister has none: its id is in the query string). */
  const post = (path: string, body: unknown, token?: string) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { 'X-Authentication-Token': token } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(5000),
    })

  async function register(): Promise<void> {
    try {
      const response = await post('/api/register', {
        name: 'harmonia',
        version: options.version,
        type: 'harmonia',
        endpoint: options.endpoint ?? `http://${hostname()}:${options.port}`,
        capabilities: HERMES_CAPABILITIES,
        metadata: { description: 'Workflow orchestration engine', api: '/api', events: '/events/executions/{id}' },
      })
      const body = (await response.json().catch(() => ({}))) as { success?: boolean; componentId?: string; token?: string }
      if (!response.ok || body.success === false) throw new Error(`hermes answered ${response.status}`)
      Object.assign(state, { registered: true, componentId: body.componentId ?? null, token: body.token ?? null })
      delay = 1000
      options.logger.info('registered with hermes', { component_id: state.componentId })
      schedule(heartbeat, options.heartbeatMs ?? 30_000)
    } catch (error) {
      state.registered = false
      options.logger.warn('hermes registration failed; retrying', { error: String(error), retry_in_ms: delay })
      schedule(register, delay)
      delay = Math.min(delay * 2, 60_000)
    }
  }

  async function heartbeat(): Promise<void> {
    try {
      const response = await post(
        '/api/heartbeat',
        { component_id: state.componentId, status: { health: 'healthy' } },
        state.token ?? undefined,
      )
      if (!response.ok) throw new Error(`hermes answered ${response.status}`)
      schedule(heartbeat, options.heartbeatMs ?? 30_000)
    } catch (error) {
      state.registered = false
      options.logger.warn('hermes heartbeat failed; registering again', { error: String(error) })
      schedule(register, delay)
    }
  }

  function schedule(fn: () => Promise<void>, ms: number): void {
    if (stopped) return
    timer = setTimeout(() => void fn(), ms)
    timer.unref()
  }

  void register()
  return {
    get registered(): boolean {
      return state.registered
    },
    async stop(): Promise<void> {
      stopped = true
      if (timer) clearTimeout(timer)
      if (!state.registered) return
      // API.md: `POST /api/unregister?component_id=<componentId>` with the token header.
      const query = state.componentId === null ? '' : `?component_id=${encodeURIComponent(state.componentId)}`
      await post(`/api/unregister${query}`, undefined, state.token ?? undefined).then(
        (response) => response.body?.cancel(),
        () => undefined,
      )
      state.registered = false
    },
  }
}
export type Hermes = ReturnType<typeof startHermes>
