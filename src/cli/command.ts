import type { HarmoniaClient, HarmoniaStateClient } from '../client/index.js'
import { formatTable, prettyJson, showing, type Cell, type Style } from './format.js'
import { UsageError, type Io } from './io.js'

/** An option as node:util parseArgs takes it, plus what help shows. */
export type OptionDef = { type: 'string' | 'boolean'; short?: string; multiple?: boolean; value?: string; help: string }
export type Options = Record<string, OptionDef>
export type Values = Record<string, string | boolean | string[] | undefined>

export type CommandContext = {
  io: Io
  /** The positional arguments after the command's words. */
  args: string[]
  values: Values
  /** The server selected by --url/HARMONIA_URL and --token/HARMONIA_TOKEN. */
  url: string
  token: string | undefined
  client: () => HarmoniaClient
  /** State and checkpoints (the seed's state client) on the same server. */
  stateClient: () => HarmoniaStateClient
  style: Style
}

/** One command: its words (`executions get`), usage, options and what it does. Resolves with the exit code. */
export type Command = {
  name: string
  args: string
  summary: string
  details?: string
  options?: Options
  /** The words its argument is one of (offered by shell completion). */
  choices?: readonly string[]
  /** How many positional arguments it takes. */
  arity: [min: number, max: number]
  run(ctx: CommandContext): Promise<number>
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS: Options = {
  url: { type: 'string', value: '<url>', help: 'server URL (env HARMONIA_URL, default http://127.0.0.1:8007)' },
  token: { type: 'string', value: '<token>', help: 'bearer token (env HARMONIA_TOKEN)' },
  help: { type: 'boolean', short: 'h', help: 'show help' },
}

export const JSON_OPTION: Options = { json: { type: 'boolean', help: 'print the raw JSON the server returned' } }
/** `--version` of the commands that show a versioned resource (`workflows get`, `templates get`). */
export const VERSION_OPTION: Options = { version: { type: 'string', value: '<n>', help: 'that version instead of the latest' } }

/** The `{ version }` query of `--version` (a whole number ≥ 1), or `{}`. */
export function versionQuery(values: Values): { version?: number } {
  const version = int(values, 'version', 1)
  return version === undefined ? {} : { version }
}

/** `--watch` of the commands that start an execution. */
export const WATCH_OPTION: Options = {
  watch: { type: 'boolean', short: 'w', help: 'follow the execution until it ends; exit 0 completed, 1 failed or canceled' },
}
/** `--limit` and `--offset` of a list. */
export const LIMIT_OPTIONS: Options = {
  limit: { type: 'string', value: '<n>', help: 'at most n items (default 50, max 1000)' },
  offset: { type: 'string', value: '<n>', help: 'skip the first n items' },
}
export const PAGE_OPTIONS: Options = {
  ...LIMIT_OPTIONS,
  filter: { type: 'string', value: '<text>', help: 'only items whose name contains text' },
}

export const str = (values: Values, name: string): string | undefined => {
  const value = values[name]
  return typeof value === 'string' ? value : undefined
}
export const bool = (values: Values, name: string): boolean => values[name] === true
export const list = (values: Values, name: string): string[] => {
  const value = values[name]
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : []
}

/** A whole-number option, or a usage error naming it. */
export function int(values: Values, name: string, min = 0): number | undefined {
  const raw = str(values, name)
  if (raw === undefined) return undefined
  if (!/^\d+$/.test(raw) || Number(raw) < min)
    throw new UsageError(`--${name} must be a whole number${min > 0 ? ` ≥ ${min}` : ''}, got "${raw}"`)
  return Number(raw)
}

/** A number option greater than 0 (seconds), or a usage error naming it. */
export function positive(values: Values, name: string): number | undefined {
  const raw = str(values, name)
  if (raw === undefined) return undefined
  const n = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a number greater than 0, got "${raw}"`)
  return n
}

/** Prints the server's answer as JSON with --json, else its readable lines. */
export function printAnswer(ctx: CommandContext, answer: unknown, readable: () => string | string[]): void {
  const text = bool(ctx.values, 'json') ? prettyJson(answer) : readable()
  ctx.io.stdout.write(`${Array.isArray(text) ? text.join('\n') : text}\n`)
}

/** A page as --json, or as a table followed by `showing 1–20 of 31`. */
export function printPage<T>(
  ctx: CommandContext,
  page: { items: T[]; total: number; offset: number },
  headers: string[],
  row: (item: T) => Cell[],
): void {
  printAnswer(ctx, page, () => [...formatTable(headers, page.items.map(row), ctx.style), ctx.style.dim(showing(page))])
}

/** The list query of PAGE_OPTIONS. */
export function pageQuery(values: Values): { limit?: number; offset?: number; filter?: string } {
  const limit = int(values, 'limit', 1)
  const offset = int(values, 'offset')
  const filter = str(values, 'filter')
  return { ...(limit !== undefined ? { limit } : {}), ...(offset !== undefined ? { offset } : {}), ...(filter ? { filter } : {}) }
}
