import { TerminalTaskError } from '../errors.js'
import type { Logger } from '../logger.js'

/** What a handler receives besides its input (DESIGN.md "Components"). */
export type HandlerContext = {
  executionId: string
  taskId: string
  /** 1 for the first attempt. */
  attempt: number
  /** `<execution_id>:<task_id>`: the same for every attempt and after a restart, for idempotent side effects. */
  idempotencyKey: string
  /** Fires when the attempt times out or the execution is canceled. */
  signal: AbortSignal
  logger: Logger
  /** A timer on the engine's clock (durable once persistence lands): not a blocked thread. */
  sleep(ms: number): Promise<void>
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- handlers take whatever JSON their action accepts
export type Handler = (input: any, ctx: HandlerContext) => unknown
export type Component = Record<string, Handler>

export type ComponentCheck = 'ok' | 'unknown_component' | 'unknown_action'

/** Resolves `component`/`action` pairs to handlers: built-ins and those registered in-process. */
export function createComponentRegistry() {
  const components = new Map<string, Map<string, Handler>>()
  return {
    /** Adds or replaces a component's actions. */
    register(name: string, actions: Component): void {
      if (!name) throw new TypeError('component name must be a non-empty string')
      const table = components.get(name) ?? new Map<string, Handler>()
      for (const [action, handler] of Object.entries(actions)) {
        if (typeof handler !== 'function') throw new TypeError(`component ${name}: action ${action} is not a function`)
        table.set(action, handler)
      }
      components.set(name, table)
    },
    check(component: string, action: string): ComponentCheck {
      const table = components.get(component)
      if (!table) return 'unknown_component'
      return table.has(action) ? 'ok' : 'unknown_action'
    },
    /** The handler, or a non-retryable error naming what is missing. */
    resolve(component: string, action: string): Handler {
      const table = components.get(component)
      if (!table) throw new TerminalTaskError(`unknown component "${component}"`, { code: 'unknown_component' })
      const handler = table.get(action)
      if (!handler) {
        throw new TerminalTaskError(`component "${component}" has no action "${action}" (it has: ${[...table.keys()].join(', ')})`, {
          code: 'unknown_action',
        })
      }
      return handler
    },
  }
}
export type ComponentRegistry = ReturnType<typeof createComponentRegistry>
