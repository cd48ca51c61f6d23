import type { InputField } from '../model/definition.js'
import type { ExecutionStatus, TaskStatus } from '../model/status.js'

/** ANSI styling, off when the output is not a terminal or NO_COLOR is set. */
export type Style = {
  enabled: boolean
  status(status: string, text?: string): string
  dim(text: string): string
  bold(text: string): string
}

const STATUS_COLORS: Record<ExecutionStatus | TaskStatus, number> = {
  pending: 90,
  running: 36,
  retrying: 33,
  paused: 35,
  completed: 32,
  failed: 31,
  skipped: 90,
  canceled: 33,
}

export function createStyle(enabled: boolean): Style {
  const wrap = (code: number, text: string) => (enabled ? `\x1b[${code}m${text}\x1b[0m` : text)
  return {
    enabled,
    status: (status, text = status) => {
      const code = STATUS_COLORS[status as TaskStatus] as number | undefined
      return code === undefined ? text : wrap(code, text)
    },
    dim: (text) => wrap(2, text),
    bold: (text) => wrap(1, text),
  }
}

/** `1.2s`, `340ms`, `2m05s`, `1h02m`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-'
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`
  const s = Math.floor(ms / 1000)
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

/** An ISO time as `YYYY-MM-DD HH:MM:SS` (UTC), or `-`. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-'
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '')
}

/** The `HH:MM:SS.mmm` part of an ISO time. */
export function clockTime(iso: string): string {
  return iso.slice(11, 23)
}

export type Cell = string | { text: string; styled: string }

/** A plain-text table: column widths from the unstyled text, styling applied after padding. */
export function formatTable(headers: string[], rows: Cell[][], style: Style, indent = ''): string[] {
  const plain = (cell: Cell) => (typeof cell === 'string' ? cell : cell.text)
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => plain(r[i] ?? '').length)))
  const line = (cells: Cell[], header = false) =>
    indent +
    cells
      .map((cell, i) => {
        const text = plain(cell)
        const pad = i === cells.length - 1 ? '' : ' '.repeat((widths[i] ?? 0) - text.length)
        const shown = typeof cell === 'string' ? (header ? style.dim(cell) : cell) : cell.styled
        return shown + pad
      })
      .join('  ')
      .trimEnd()
  return [line(headers, true), ...rows.map((r) => line(r))]
}

/** A value as text: strings as they are, other values as JSON (absent → `fallback`). */
export function text(value: unknown, fallback = ''): string {
  if (value === undefined || value === null) return fallback
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/** JSON for humans: two-space indentation. */
export const prettyJson = (value: unknown): string => JSON.stringify(value, null, 2)

/** Shortens text to `width` characters with an ellipsis. */
export function truncate(text: string, width: number): string {
  if (text.length <= width) return text
  if (width <= 0) return ''
  return `${text.slice(0, width - 1)}…`
}

/** `showing 1–20 of 31`. */
export function showing(page: { items: unknown[]; total: number; offset: number }): string {
  if (page.items.length === 0) return page.total === 0 ? 'none' : `none at offset ${page.offset} of ${page.total}`
  return `showing ${page.offset + 1}–${page.offset + page.items.length} of ${page.total}`
}

/** A workflow input or template parameter: `name (string, required, default "x")`. */
export function fieldText(name: string, f: InputField): string {
  return `${name} (${f.type ?? 'any'}${f.required ? ', required' : ''}${f.default !== undefined ? `, default ${JSON.stringify(f.default)}` : ''})`
}
