import { TerminalTaskError } from '../errors.js'
import { isPlainObject } from '../json.js'
import type { Component } from './handler.js'

const asObject = (input: unknown): Record<string, unknown> => (isPlainObject(input) ? input : {})

/**
 * The built-in `harmonia` component: `noop` → `{}`, `echo` → its input, `sleep` `{seconds}` on the engine's clock,
 * `fail` `{message?, attempts?, retryable?}` fails while the attempt is ≤ `attempts` (always when omitted), then
 * returns `{attempt}`.
 */
export const harmoniaComponent: Component = {
  noop: () => ({}),
  echo: (input: unknown) => input ?? null,
  sleep: async (input: unknown, ctx) => {
    const seconds = Number(asObject(input).seconds ?? 0)
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new TerminalTaskError('harmonia.sleep: seconds must be a non-negative number', { code: 'invalid_input' })
    }
    await ctx.sleep(seconds * 1000)
    return { slept: seconds }
  },
  fail: (input: unknown, ctx) => {
    const { message, attempts, retryable } = asObject(input)
    const text = typeof message === 'string' ? message : 'harmonia.fail: failing on purpose'
    if (attempts === undefined || attempts === null || ctx.attempt <= Number(attempts)) {
      if (retryable === false) throw new TerminalTaskError(text, { code: 'non_retryable' })
      throw new Error(text)
    }
    return { attempt: ctx.attempt }
  },
}
