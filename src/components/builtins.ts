import { harmoniaComponent } from './harmonia.component.js'
import { createHttpComponent } from './http.component.js'
import type { ComponentRegistry } from './registry.js'
import { shellComponent } from './shell.component.js'

export type BuiltinOptions = {
  /** Run shell commands (default: HARMONIA_ENABLE_SHELL=1). Off: a workflow naming `shell` is refused at create. */
  enableShell?: boolean
  /** Host patterns the `http` built-in may call (default: HARMONIA_HTTP_ALLOW, comma-separated; unset: any). */
  httpAllow?: readonly string[]
}

/** HARMONIA_HTTP_ALLOW as a list; unset or blank means no restriction. */
export function httpAllowFromEnv(raw = process.env.HARMONIA_HTTP_ALLOW): string[] | undefined {
  const patterns = (raw ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
  return patterns.length > 0 ? patterns : undefined
}

/**
 * Registers the built-ins (API.md "Built-ins"): `harmonia` (noop, echo, sleep, fail), `shell` (execute_command; off
 * unless enabled, when its tasks fail with `component_disabled`) and `http` (request).
 */
export function registerBuiltins(registry: ComponentRegistry, options: BuiltinOptions = {}): void {
  const enableShell = options.enableShell ?? process.env.HARMONIA_ENABLE_SHELL === '1'
  const allow = options.httpAllow ?? httpAllowFromEnv()
  registry.register('harmonia', harmoniaComponent, { source: 'builtin', description: 'noop, echo, sleep and fail, in process' })
  registry.register('shell', shellComponent, {
    source: 'builtin',
    description: 'runs a command (a string through /bin/sh -c, or an argv list)',
    ...(enableShell ? {} : { disabled: 'the shell component is disabled: set HARMONIA_ENABLE_SHELL=1 to enable it' }),
  })
  registry.register('http', createHttpComponent(allow ? { allow } : {}), { source: 'builtin', description: 'calls a URL' })
}
