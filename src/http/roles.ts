import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'

/**
 * Roles on tokens (API.md "Roles, audit and limits"): `viewer` reads (every GET, the event streams, /metrics);
 * `operator` also runs executions (start, pause, resume, cancel, rerun, signals, state, checkpoints and restore, task
 * callbacks); `admin` may do everything (workflows, templates, components and event subscriptions create/update/delete,
 * the audit log).
 */
export const ROLES = ['viewer', 'operator', 'admin'] as const
export type Role = (typeof ROLES)[number]

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 }

/** Whether `held` includes what `needed` may do. */
export const allows = (held: Role, needed: Role): boolean => RANK[held] >= RANK[needed]

/** A configured token: its role, and a short hash that names it in the audit trail (never the token itself). */
export type TokenEntry = { token: string; role: Role; id: string }

/** The first 12 hex digits of the token's SHA-256: stable, unique enough to tell tokens apart, useless to an attacker. */
export const tokenId = (token: string): string => createHash('sha256').update(token).digest('hex').slice(0, 12)

/** `role:token` or a bare `token` (an admin: today's behaviour). A prefix that is not a role is part of the token. */
export function parseTokenEntry(entry: string): TokenEntry | undefined {
  const text = entry.trim()
  if (text === '') return undefined
  const colon = text.indexOf(':')
  const prefix = colon > 0 ? text.slice(0, colon) : ''
  const role = (ROLES as readonly string[]).includes(prefix) ? (prefix as Role) : undefined
  const token = role ? text.slice(colon + 1).trim() : text
  if (token === '') return undefined
  return { token, role: role ?? 'admin', id: tokenId(token) }
}

/** The configured tokens of `role:token` / `token` entries (blank ones skipped). */
export function parseTokens(entries: readonly string[]): TokenEntry[] {
  return entries.map(parseTokenEntry).filter((e): e is TokenEntry => e !== undefined)
}

/** HARMONIA_API_TOKENS (comma-separated) and the lines of HARMONIA_API_TOKENS_FILE (blank lines and `#` comments skipped). */
export function tokenEntriesFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const entries = (env.HARMONIA_API_TOKENS ?? '').split(',')
  if (env.HARMONIA_API_TOKENS_FILE) {
    const lines = readFileSync(env.HARMONIA_API_TOKENS_FILE, 'utf8').split(/\r?\n/)
    entries.push(...lines.filter((line) => !line.trim().startsWith('#')))
  }
  return entries.map((e) => e.trim()).filter(Boolean)
}

/** Paths an operator may POST or PUT to (under /api and /api/v1): what runs executions, not what defines workflows. */
const OPERATOR_WRITES: readonly RegExp[] = [
  /^\/executions$/,
  /^\/executions\/[^/]+\/(?:pause|resume|cancel|rerun)$/,
  /^\/executions\/[^/]+\/signals\/[^/]+$/,
  /^\/executions\/[^/]+\/tasks\/[^/]+\/(?:complete|fail)$/,
  /^\/state\/[^/]+$/,
  /^\/checkpoints$/,
  /^\/checkpoints\/[^/]+\/restore$/,
]

/** The role a request needs; reads need `viewer`, but the audit log is an admin's. */
export function requiredRole(method: string, path: string): Role {
  const api = /^\/api(?:\/v1)?(\/.*)$/.exec(path)?.[1]
  if (method === 'GET' || method === 'HEAD') return api?.startsWith('/audit') ? 'admin' : 'viewer'
  // Any token may speak MCP: each tool's request is checked again, against the same token, as the REST call it is.
  if (path === '/mcp') return 'viewer'
  if (api !== undefined && (method === 'POST' || method === 'PUT') && OPERATOR_WRITES.some((re) => re.test(api))) return 'operator'
  return 'admin'
}
