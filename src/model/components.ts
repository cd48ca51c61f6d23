/** Components as the API describes them (API.md "Remote components"). */

/** The built-in components (API.md "Built-ins"): what a config `type` aliases, and no other source may take. */
export const BUILTIN_COMPONENT_NAMES = ['harmonia', 'shell', 'http'] as const
export type BuiltinComponentName = (typeof BUILTIN_COMPONENT_NAMES)[number]

/** A component name: letters, digits, `_`, `.` and `-` (it appears in URLs and in task definitions). */
export const COMPONENT_NAME = /^[A-Za-z0-9_.-]{1,100}$/

/** Where a component comes from. */
export const COMPONENT_SOURCES = ['builtin', 'embedded', 'api', 'config', 'hermes'] as const
export type ComponentSource = (typeof COMPONENT_SOURCES)[number]

/** A component reached over HTTP, as stored (api), declared (config file) or discovered (Hermes). */
export type RemoteComponentRecord = {
  name: string
  /** Base URL; an action is called at `{url}/api/actions/{action}`. */
  url: string
  /** The actions it serves; null: any. */
  actions: string[] | null
  secret: string | null
  /** Seconds one call may take. */
  timeout: number | null
  description: string
  metadata: Record<string, unknown>
  created_at: string
  updated_at: string
}

/** A component on the wire: never its secret, only whether it has one. */
export type ComponentDescription = {
  name: string
  url: string | null
  actions: string[] | null
  description: string
  timeout: number | null
  metadata: Record<string, unknown>
  source: ComponentSource
  has_secret: boolean
  /** False for a built-in the operator has not enabled (the shell without HARMONIA_ENABLE_SHELL=1). */
  enabled: boolean
  created_at: string | null
  updated_at: string | null
}

/** A component's health (`GET /api/components/{name}/health`). */
export type ComponentHealth = { name: string; healthy: boolean; status_code?: number; latency_ms?: number; error?: string }
