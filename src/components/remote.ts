import { isPlainObject } from '../json.js'
import type { Handler, HandlerContext } from './handler.js'
import { requestFailure, statusFailure } from './http-failure.js'
import { decodeBody, readCapped } from './http-response.js'
import { signatureHeaders } from './signature.js'
import { TerminalTaskError } from '../errors.js'

/** A component reached over HTTP: registered through the API, declared in the config file, or found in Hermes. */
export type RemoteTarget = {
  name: string
  /** Base URL; actions are called at `{url}/api/actions/{action}`. */
  url: string
  secret: string | null
  /** Seconds one call may take (the request, not the wait for a callback). */
  timeout: number | null
}

export type RemoteCallDeps = {
  now: () => number
  /** Where this server is reached by components (`callback_url` is built on it); undefined: none is sent. */
  publicUrl: () => string | undefined
  /** Response size cap (default 10 MiB). */
  maxResponseBytes?: number
}

/** A call that sets no timeout of its own still ends: a stuck connection must not hold an attempt forever. */
export const DEFAULT_CALL_TIMEOUT_SECONDS = 300
const DEFAULT_MAX_RESPONSE = 10 * 1024 * 1024

/** The base of this task's callback routes: the component POSTs to `{callback_url}/complete` or `/fail`. */
export function callbackUrl(base: string, executionId: string, taskId: string): string {
  return `${base.replace(/\/+$/, '')}/api/executions/${executionId}/tasks/${encodeURIComponent(taskId)}`
}

/** The body of a call (API.md "The call"): the action, the resolved task input, and the attempt's context. */
function callBody(action: string, params: unknown, ctx: HandlerContext, deps: RemoteCallDeps): string {
  const base = deps.publicUrl()
  return JSON.stringify({
    action,
    params: params ?? null,
    context: {
      execution_id: ctx.executionId,
      workflow_id: ctx.workflowId,
      task_id: ctx.taskId,
      attempt: ctx.attempt,
      idempotency_key: ctx.idempotencyKey,
      callback_url: base === undefined ? null : callbackUrl(base, ctx.executionId, ctx.taskId),
      deadline: ctx.deadline,
    },
  })
}

/**
 * The handler of one action of a remote component: `POST {url}/api/actions/{action}`, signed when the component has
 * a secret. 200 → the task's output (the body's `output` field when it is an object that has one, else the whole
 * body); 202 → the component answers later through a callback; 408, 429, 5xx, a timeout or a connection error →
 * retryable (429/503 `Retry-After` stretch the backoff); any other 4xx → fails for good. Cancel closes the connection.
 */
export function remoteAction(target: RemoteTarget, action: string, deps: RemoteCallDeps): Handler {
  const url = `${target.url.replace(/\/+$/, '')}/api/actions/${encodeURIComponent(action)}`
  const name = `${target.name}.${action}`
  return async (params: unknown, ctx: HandlerContext) => {
    const body = callBody(action, params, ctx, deps)
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      'idempotency-key': ctx.idempotencyKey,
      traceparent: ctx.traceparent,
      ...(target.secret === null
        ? { 'X-Harmonia-Timestamp': String(Math.floor(deps.now() / 1000)) }
        : signatureHeaders(target.secret, body, deps.now())),
    }
    const ms = (target.timeout ?? DEFAULT_CALL_TIMEOUT_SECONDS) * 1000
    const timeout = { signal: AbortSignal.timeout(ms), ms }
    let response: Response
    let decoded: unknown
    try {
      response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.any([ctx.signal, timeout.signal]),
        redirect: 'manual',
      })
      const bytes = await readCapped(response.body, deps.maxResponseBytes ?? DEFAULT_MAX_RESPONSE)
      if (bytes === undefined) throw new TerminalTaskError(`${name}: the response is larger than the cap`, { code: 'response_too_large' })
      decoded = decodeBody(bytes, response.headers.get('content-type'))
    } catch (error) {
      throw requestFailure(error, name, { outer: ctx.signal, timeout })
    }
    if (response.status === 202) return ctx.awaitCallback()
    if (response.status >= 200 && response.status < 300) return isPlainObject(decoded) && 'output' in decoded ? decoded.output : decoded
    throw statusFailure(response, decoded, deps.now())
  }
}
