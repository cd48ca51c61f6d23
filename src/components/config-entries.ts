import { getOwn, isPlainObject, type PathSegment } from '../json.js'
import { BUILTIN_COMPONENT_NAMES, COMPONENT_NAME, type BuiltinComponentName } from '../model/components.js'
import { UNRESOLVED } from './config-env.js'

/** `ergon: {type: shell}`: another name for a built-in. */
export type AliasComponentConfig = { name: string; kind: 'alias'; type: BuiltinComponentName }

/** `prometheus: {url, …}`: a component Harmonia calls over HTTP (API.md "The call"). `timeout` is in seconds. */
export type RemoteComponentConfig = {
  name: string
  kind: 'remote'
  url: string
  secret: string | null
  /** null: any action. */
  actions: string[] | null
  timeout: number | null
  description: string
  metadata: Record<string, unknown>
}

export type ComponentConfigEntry = AliasComponentConfig | RemoteComponentConfig
export type ComponentConfig = { components: ComponentConfigEntry[] }

type Report = (at: readonly PathSegment[], message: string) => void

const REMOTE_FIELDS = ['url', 'secret', 'actions', 'timeout', 'description', 'metadata'] as const
const KNOWN_FIELDS: readonly string[] = ['type', ...REMOTE_FIELDS]
const NEEDS_KIND = `needs \`type\` (a built-in to alias: ${BUILTIN_COMPONENT_NAMES.join(', ')}) or \`url\` (a remote component)`

const isBuiltin = (name: unknown): name is BuiltinComponentName => (BUILTIN_COMPONENT_NAMES as readonly unknown[]).includes(name)

/**
 * The entries of a config file once parsed and substituted, reporting every problem at its path. Messages never quote
 * a value (a URL or a secret may hold a credential). The result is meaningful only when nothing was reported.
 */
export function readComponents(root: unknown, report: Report): ComponentConfigEntry[] {
  if (!isPlainObject(root)) {
    report([], 'the file must hold a mapping with a `components` mapping')
    return []
  }
  for (const key of Object.keys(root)) if (key !== 'components') report([key], 'unknown field: the file holds only `components`')
  const components = getOwn(root, 'components')
  if (components === undefined) return []
  if (!isPlainObject(components)) {
    report(['components'], 'must be a mapping of component names to their entries')
    return []
  }
  return Object.entries(components).flatMap(([name, entry]) => readEntry(name, entry, ['components', name], report) ?? [])
}

function readEntry(name: string, entry: unknown, at: PathSegment[], report: Report): ComponentConfigEntry | null {
  if (!COMPONENT_NAME.test(name)) report(at, 'a component name must be non-empty and use only letters, digits, `_`, `.` and `-`')
  else if (isBuiltin(name)) report(at, `${name} is a built-in component: choose another name for this entry`)
  if (entry === UNRESOLVED) return null
  if (!isPlainObject(entry)) {
    report(at, `must be a mapping: it ${NEEDS_KIND}`)
    return null
  }
  for (const key of Object.keys(entry)) {
    if (!KNOWN_FIELDS.includes(key)) report([...at, key], `unknown field (known: ${KNOWN_FIELDS.join(', ')})`)
  }
  if (Object.hasOwn(entry, 'type')) {
    for (const key of REMOTE_FIELDS) {
      if (Object.hasOwn(entry, key)) report([...at, key], 'not allowed with `type`: only a remote component (with `url`) takes it')
    }
    const type = entry.type
    if (type !== UNRESOLVED && !isBuiltin(type)) {
      report([...at, 'type'], `must name a built-in component: ${BUILTIN_COMPONENT_NAMES.join(', ')}`)
    }
    return { name, kind: 'alias', type: type as BuiltinComponentName }
  }
  if (!Object.hasOwn(entry, 'url')) {
    report(at, NEEDS_KIND)
    return null
  }
  return readRemote(name, entry, at, report)
}

/** Why `value` cannot be a component's base URL, or null. */
function urlProblem(value: unknown): string | null {
  if (typeof value !== 'string' || !/^https?:\/\//i.test(value) || !URL.canParse(value)) return 'must be an absolute http(s) URL'
  const url = new URL(value)
  // Harmonia appends /api/actions/<action> and /health: a query or a fragment would end up in the wrong place.
  return url.search === '' && url.hash === '' ? null : 'must not have a query or a fragment'
}

function readRemote(name: string, entry: Record<string, unknown>, at: PathSegment[], report: Report): RemoteComponentConfig {
  /** Reports `key` when present (optional fields may also be null) and `problem` finds fault with it. */
  const check = (key: string, problem: (value: unknown) => string | null, required = false) => {
    const value = entry[key]
    if (value === UNRESOLVED || (!required && (value === undefined || value === null))) return
    const message = problem(value)
    if (message !== null) report([...at, key], message)
  }
  check('url', urlProblem, true)
  check('secret', (v) => (typeof v === 'string' && v !== '' ? null : 'must be a non-empty string'))
  check('timeout', (v) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? null : 'must be a positive number of seconds'))
  check('description', (v) => (typeof v === 'string' ? null : 'must be a string'))
  check('metadata', (v) => (isPlainObject(v) ? null : 'must be a mapping'))
  const actions = entry.actions ?? null
  if (actions !== null) checkActions(actions, [...at, 'actions'], report)
  return {
    name,
    kind: 'remote',
    url: entry.url as string,
    secret: (entry.secret as string | null | undefined) ?? null,
    actions: Array.isArray(actions) ? actions.map(String) : null,
    timeout: (entry.timeout as number | null | undefined) ?? null,
    description: (entry.description as string | null | undefined) ?? '',
    metadata: (entry.metadata as Record<string, unknown> | null | undefined) ?? {},
  }
}

function checkActions(actions: unknown, at: PathSegment[], report: Report): void {
  if (!Array.isArray(actions) || actions.length === 0) {
    report(at, 'must be a non-empty list of action names (leave it out to allow any action)')
    return
  }
  const seen = new Set<unknown>()
  actions.forEach((action, i) => {
    if (action === UNRESOLVED) return
    if (typeof action !== 'string' || action === '') report([...at, i], 'must be a non-empty string')
    else if (seen.has(action)) report([...at, i], 'repeats an action listed before')
    seen.add(action)
  })
}
