import type { ComponentConfig } from '../components/config.js'
import type { Component } from '../components/handler.js'
import type { ComponentEntry, ComponentRegistry } from '../components/registry.js'
import { ConflictError, NotFoundError, ValidationError } from '../errors.js'
import { assertStorable, isPlainObject } from '../json.js'
import { componentProblem, type ComponentCatalog } from '../model/component-check.js'
import { CreateComponentSchema, ReplaceComponentSchema, type ComponentBody } from '../model/component.schema.js'
import type { ComponentDescription, ComponentHealth, RemoteComponentRecord } from '../model/components.js'
import type { WorkflowDefinition } from '../model/definition.js'
import { parseWith } from '../model/parse.js'
import { iso, type ServiceContext } from './context.js'
import { createComponentSecrets } from './component-secrets.js'
import type { SecretKeyring } from './secret-key.js'

/** A remote component registered by embedding code (not stored: the code registers it again at each start). */
export type RemoteRegistration = Partial<Omit<RemoteComponentRecord, 'created_at' | 'updated_at'>> & { name: string; url: string }

/** The wire form of what the registry knows of a name; never a secret. */
function describe(entry: ComponentEntry, registry: ComponentRegistry, bootedAt: string): ComponentDescription {
  if (entry.kind === 'remote') {
    const r = entry.remote
    return {
      name: r.name,
      url: r.url,
      actions: r.actions,
      description: r.description,
      timeout: r.timeout,
      metadata: r.metadata,
      source: entry.source,
      has_secret: r.secret !== null,
      enabled: true,
      created_at: r.created_at,
      updated_at: r.updated_at,
    }
  }
  const target = entry.kind === 'alias' ? registry.get(entry.target) : entry
  const local = target?.kind === 'local' ? target : undefined
  const description = entry.kind === 'alias' ? `another name for the ${entry.target} built-in` : (local?.description ?? '')
  return {
    name: entry.name,
    url: null,
    actions: local ? [...local.handlers.keys()].sort() : null,
    description,
    timeout: null,
    metadata: entry.kind === 'alias' ? { alias_of: entry.target } : {},
    source: entry.source,
    has_secret: false,
    enabled: local?.disabled === undefined,
    created_at: bootedAt,
    updated_at: bootedAt,
  }
}

/**
 * A remote component's record from what the API or embedding code gave, field by field: a field left out or given as
 * undefined (`secret: process.env.X` when X is unset) takes its default instead of overriding it.
 */
function remoteRecord(fields: RemoteRegistration, at: string, createdAt = at): RemoteComponentRecord {
  return {
    name: fields.name,
    url: fields.url,
    actions: fields.actions ?? null,
    secret: fields.secret ?? null,
    timeout: fields.timeout ?? null,
    description: fields.description ?? '',
    metadata: fields.metadata ?? {},
    created_at: createdAt,
    updated_at: at,
  }
}

const SOURCE_NAMES: Record<ComponentEntry['source'], string> = {
  builtin: 'a built-in',
  embedded: 'registered by embedding code',
  config: 'declared in the config file',
  api: 'registered through the API',
}

/** Components: every source listed, API components stored and registered, health probes, create-time checks. */
export function createComponentService(
  ctx: ServiceContext,
  registry: ComponentRegistry,
  options: { strict: boolean; keyring: SecretKeyring },
) {
  const bootedAt = iso(ctx.now())

  const secrets = createComponentSecrets(options.keyring)

  function known(name: string): ComponentEntry {
    const entry = registry.get(name)
    if (!entry) throw new NotFoundError('component', name)
    return entry
  }

  async function store(body: ComponentBody, previous?: RemoteComponentRecord): Promise<ComponentDescription> {
    const record = remoteRecord(body, iso(ctx.now()), previous?.created_at)
    await ctx.store.components.put({ ...record, secret: secrets.seal(record.secret) })
    registry.setRemote(record, 'api')
    return describe(known(record.name), registry, bootedAt)
  }

  /** The catalog validation uses: strict refuses unknown pairs; Hermes is asked later (`deferred`). */
  const catalog: ComponentCatalog = {
    check(component, action) {
      const answer = registry.check(component, action)
      if (answer === 'unknown_component' && registry.hermes) return 'deferred'
      if (!options.strict && (answer === 'unknown_component' || answer === 'unknown_action')) return 'ok'
      return answer
    },
  }

  return {
    catalog,
    /** Registers the config file's entries, then the stored API components (a name the config took stays the config's). */
    async load(config: ComponentConfig | undefined): Promise<void> {
      for (const entry of config?.components ?? []) {
        if (entry.kind === 'alias') registry.alias(entry.name, entry.type)
        else registry.setRemote({ ...entry, created_at: bootedAt, updated_at: bootedAt }, 'config')
      }
      for (const stored of await ctx.store.components.list()) {
        const record = secrets.unseal(stored)
        if (registry.get(record.name)) ctx.logger.warn('a stored component is shadowed by another source', { component: record.name })
        else registry.setRemote(record, 'api')
      }
    },
    /** Seals every stored secret again under `key` (base64); from then on it is the key. Returns how many. */
    rotateSecrets: (key: string): Promise<number> => secrets.rotate(ctx.store, key),
    /** After validation: the components only Hermes may know are looked up (422 unknown, 503 Hermes down). */
    async verifyDeferred(definition: WorkflowDefinition): Promise<void> {
      const hermes = registry.hermes
      if (!hermes) return
      const errors = []
      for (const [i, task] of definition.tasks.entries()) {
        if (catalog.check(task.component, task.action) !== 'deferred') continue
        const found = await hermes.lookup(task.component)
        const answer = !found
          ? 'unknown_component'
          : found.actions === null || found.actions.includes(task.action)
            ? 'ok'
            : 'unknown_action'
        const problem = componentProblem(i, `task ${JSON.stringify(task.id)}`, task, options.strict ? answer : 'ok')
        if (problem) errors.push(problem)
      }
      if (errors.length > 0) throw new ValidationError(errors, 'Invalid workflow definition')
    },
    /** In-process actions (`(name, actions)`) or a remote component reached over HTTP (`{ name, url, … }`). */
    registerComponent: (name: string | RemoteRegistration, actions?: Component): void => {
      if (typeof name === 'string') return registry.register(name, actions ?? {})
      registry.setRemote(remoteRecord(name, iso(ctx.now())), 'embedded')
    },
    api: {
      /** Every component of every source, built-ins included (API components in name order after the others). */
      async listComponents(): Promise<ComponentDescription[]> {
        return registry.list().map((entry) => describe(entry, registry, bootedAt))
      },
      async getComponent(name: string): Promise<ComponentDescription> {
        const entry = registry.get(name)
        if (entry) return describe(entry, registry, bootedAt)
        const found = await registry.hermes?.lookup(name)
        if (!found) throw new NotFoundError('component', name)
        return {
          name,
          url: found.url,
          actions: found.actions,
          description: '',
          timeout: null,
          metadata: {},
          source: 'hermes',
          has_secret: false,
          enabled: true,
          created_at: null,
          updated_at: null,
        }
      },
      /** Registers a remote component (stored); 409 when another component has the name. */
      async createComponent(body: unknown): Promise<ComponentDescription> {
        assertStorable(body, '')
        const parsed = parseWith(CreateComponentSchema, body)
        const taken = registry.get(parsed.name)
        if (taken)
          throw new ConflictError(
            `component ${parsed.name} exists (${SOURCE_NAMES[taken.source]}); PUT /api/components/${parsed.name} replaces an API component`,
          )
        return store(parsed)
      },
      /** Replaces (or creates) an API component; 409 for a name another source holds. */
      async replaceComponent(name: string, body: unknown): Promise<ComponentDescription> {
        assertStorable(body, '')
        const parsed = parseWith(ReplaceComponentSchema, isPlainObject(body) ? { ...body } : body)
        if (parsed.name !== undefined && parsed.name !== name)
          throw new ValidationError([{ path: 'name', message: `name must be ${name} (the path's) or left out` }])
        const taken = registry.get(name)
        if (taken && taken.source !== 'api')
          throw new ConflictError(`component ${name} is ${SOURCE_NAMES[taken.source]}: only API components can be replaced`)
        parseWith(CreateComponentSchema, { ...parsed, name })
        return store({ ...parsed, name }, taken?.kind === 'remote' ? taken.remote : undefined)
      },
      /** Deletes an API component; built-in, embedded and config components cannot be (409). */
      async deleteComponent(name: string): Promise<void> {
        const entry = known(name)
        if (entry.source !== 'api') throw new ConflictError(`component ${name} is ${SOURCE_NAMES[entry.source]} and cannot be deleted`)
        await ctx.store.components.delete(name)
        registry.remove(name)
      },
      /** `GET {url}/health` of a remote component (healthy or not, always an answer); in-process ones are healthy. */
      async componentHealth(name: string): Promise<ComponentHealth> {
        const entry = registry.get(name)
        let url: string | undefined
        if (entry?.kind === 'remote') url = entry.remote.url
        else if (!entry) {
          const found = await registry.hermes?.lookup(name)
          if (!found) throw new NotFoundError('component', name)
          url = found.url
        }
        if (url === undefined) return { name, healthy: true }
        const started = performance.now()
        try {
          const response = await fetch(`${url.replace(/\/+$/, '')}/health`, { signal: AbortSignal.timeout(5_000) })
          await response.body?.cancel()
          const latency_ms = Math.round(performance.now() - started)
          const health = { name, healthy: response.ok, status_code: response.status, latency_ms }
          // API.md: an unhealthy answer says why.
          return response.ok ? health : { ...health, error: `GET /health answered ${response.status}` }
        } catch (error) {
          const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error)
          return { name, healthy: false, latency_ms: Math.round(performance.now() - started), error: cause }
        }
      },
    },
  }
}
export type ComponentService = ReturnType<typeof createComponentService>
export type ComponentsApi = ComponentService['api']
