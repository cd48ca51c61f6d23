import { TerminalTaskError } from '../errors.js'
import type { ComponentCheck } from '../model/component-check.js'
import type { RemoteComponentRecord } from '../model/components.js'
import type { Component, Handler, HandlerContext } from './handler.js'
import type { HermesDirectory } from './hermes-directory.js'
import { remoteAction, type RemoteCallDeps } from './remote.js'

/** What the registry knows of one name. */
export type ComponentEntry =
  | { kind: 'local'; name: string; source: 'builtin' | 'embedded'; handlers: Map<string, Handler>; description: string; disabled?: string }
  | { kind: 'alias'; name: string; source: 'config'; target: string }
  | { kind: 'remote'; name: string; source: 'api' | 'config' | 'embedded'; remote: RemoteComponentRecord }

export type RegistryDeps = {
  remote: RemoteCallDeps
  /** Looked up for names no other source knows (HERMES_URL). */
  hermes?: HermesDirectory
}

/**
 * Resolves `component`/`action` pairs to handlers across every source, in this order: built-ins, components
 * embedded by code, config aliases and remote components (config file and API), then Hermes. A name belongs to one
 * source: adding a name that another source holds is refused by the caller (409).
 */
export function createComponentRegistry(deps: RegistryDeps) {
  const entries = new Map<string, ComponentEntry>()

  const local = (name: string): Extract<ComponentEntry, { kind: 'local' }> | undefined => {
    const entry = entries.get(name)
    if (entry?.kind === 'local') return entry
    if (entry?.kind === 'alias') return local(entry.target)
    return undefined
  }

  /** A local component's handler, or the reason it cannot run (disabled, unknown action). */
  function localHandler(name: string, entry: Extract<ComponentEntry, { kind: 'local' }>, action: string): Handler {
    const disabled = entry.disabled
    if (disabled !== undefined) return () => Promise.reject(new TerminalTaskError(disabled, { code: 'component_disabled' }))
    const handler = entry.handlers.get(action)
    if (handler) return handler
    const known = [...entry.handlers.keys()].join(', ')
    throw new TerminalTaskError(`component "${name}" has no action "${action}" (it has: ${known})`, { code: 'unknown_action' })
  }

  function remoteHandler(remote: RemoteComponentRecord, action: string): Handler {
    if (remote.actions !== null && !remote.actions.includes(action)) {
      const known = remote.actions.join(', ')
      throw new TerminalTaskError(`component "${remote.name}" has no action "${action}" (it has: ${known})`, { code: 'unknown_action' })
    }
    return remoteAction(remote, action, deps.remote)
  }

  /** A handler that finds the component in Hermes when the call is made (cached there for a minute). */
  function hermesHandler(hermes: HermesDirectory, component: string, action: string): Handler {
    return async (input: unknown, ctx: HandlerContext) => {
      const found = await hermes.lookup(component)
      if (!found)
        throw new TerminalTaskError(`unknown component "${component}" (not registered, and Hermes does not know it)`, {
          code: 'unknown_component',
        })
      const now = new Date(deps.remote.now()).toISOString()
      const remote = { ...found, secret: null, timeout: null, description: '', metadata: {}, created_at: now, updated_at: now }
      return remoteHandler(remote, action)(input, ctx)
    }
  }

  return {
    /** Adds or extends an in-process component (built-in or embedded). */
    register(
      name: string,
      actions: Component,
      options: { source?: 'builtin' | 'embedded'; description?: string; disabled?: string } = {},
    ): void {
      if (!name) throw new TypeError('component name must be a non-empty string')
      const previous = entries.get(name)
      const handlers = previous?.kind === 'local' ? previous.handlers : new Map<string, Handler>()
      for (const [action, handler] of Object.entries(actions)) {
        if (typeof handler !== 'function') throw new TypeError(`component ${name}: action ${action} is not a function`)
        handlers.set(action, handler)
      }
      const source = options.source ?? (previous?.kind === 'local' ? previous.source : 'embedded')
      const description = options.description ?? (previous?.kind === 'local' ? previous.description : '')
      const entry: ComponentEntry = { kind: 'local', name, source, handlers, description }
      if (options.disabled !== undefined) entry.disabled = options.disabled
      entries.set(name, entry)
    },
    /** Makes `name` another name of a built-in (a config `type`). */
    alias(name: string, target: string): void {
      entries.set(name, { kind: 'alias', name, source: 'config', target })
    },
    /** Adds or replaces a remote component. */
    setRemote(remote: RemoteComponentRecord, source: 'api' | 'config' | 'embedded'): void {
      entries.set(remote.name, { kind: 'remote', name: remote.name, source, remote })
    },
    remove(name: string): boolean {
      return entries.delete(name)
    },
    get: (name: string): ComponentEntry | undefined => entries.get(name),
    list: (): ComponentEntry[] => [...entries.values()],
    hermes: deps.hermes,
    /** What validation needs: whether a known source has the pair ('unknown_component' also when Hermes may know it). */
    check(component: string, action: string): ComponentCheck {
      const entry = entries.get(component)
      if (!entry) return 'unknown_component'
      if (entry.kind === 'remote') return entry.remote.actions === null || entry.remote.actions.includes(action) ? 'ok' : 'unknown_action'
      const target = local(component)
      if (!target) return 'unknown_component'
      if (target.disabled !== undefined) return 'disabled'
      return target.handlers.has(action) ? 'ok' : 'unknown_action'
    },
    /** The handler of a pair; a non-retryable error naming what is missing. Unknown names go to Hermes when set. */
    resolve(component: string, action: string): Handler {
      const entry = entries.get(component)
      if (entry?.kind === 'remote') return remoteHandler(entry.remote, action)
      const target = entry ? local(component) : undefined
      if (target) return localHandler(component, target, action)
      if (deps.hermes && !entry) return hermesHandler(deps.hermes, component, action)
      throw new TerminalTaskError(`unknown component "${component}"`, { code: 'unknown_component' })
    },
  }
}
export type ComponentRegistry = ReturnType<typeof createComponentRegistry>
