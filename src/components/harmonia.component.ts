import { TerminalTaskError } from '../errors.js'
import { isPlainObject } from '../json.js'
import type { Component } from './handler.js'

const asObject = (input: unknown): Record<string, unknown> => (isPlainObject(input) ? input : {})

const invalid = (message: string) => new TerminalTaskError(message, { code: 'invalid_input' })

/** `sleep`'s wait: `{seconds}` from now, or `{until}` an ISO time (already past: no wait). */
function sleepMs(input: Record<string, unknown>, now: number): number {
  if (input.until !== undefined) {
    if (input.seconds !== undefined) throw invalid('harmonia.sleep: give seconds or until, not both')
    const until = typeof input.until === 'string' ? Date.parse(input.until) : NaN
    if (Number.isNaN(until)) throw invalid('harmonia.sleep: until must be an ISO-8601 time such as 2026-12-24T18:00:00Z')
    return Math.max(0, until - now)
  }
  const seconds = Number(input.seconds ?? 0)
  if (!Number.isFinite(seconds) || seconds < 0) throw invalid('harmonia.sleep: seconds must be a non-negative number')
  return seconds * 1000
}

/**
 * The built-in `harmonia` component: `noop` → `{}`, `echo` → its input, `sleep` `{seconds}` or `{until}` on the
 * engine's clock (durable), `wait_for_signal` `{name, timeout?}` → the signal's payload (an approval step),
 * `fail` `{message?, attempts?, retryable?}` fails while the attempt is ≤ `attempts` (always when omitted), then
 * returns `{attempt}`. (`run_workflow` is registered by the engine, which it needs.)
 */
export const harmoniaComponent: Component = {
  noop: () => ({}),
  echo: (input: unknown) => input ?? null,
  sleep: async (input: unknown, ctx) => {
    const fields = asObject(input)
    const ms = sleepMs(fields, ctx.now())
    await ctx.sleep(ms)
    return fields.until !== undefined ? { until: fields.until } : { slept: ms / 1000 }
  },
  wait_for_signal: async (input: unknown, ctx) => {
    const { name, timeout } = asObject(input)
    if (typeof name !== 'string' || name === '' || name.length > 200)
      throw invalid('harmonia.wait_for_signal: name must be a non-empty string')
    if (timeout !== undefined && !(typeof timeout === 'number' && timeout > 0 && timeout <= 2_147_483)) {
      throw invalid('harmonia.wait_for_signal: timeout must be a positive number of seconds')
    }
    return ctx.waitForSignal(name, timeout === undefined ? undefined : timeout * 1000)
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
