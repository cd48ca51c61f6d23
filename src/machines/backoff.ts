import type { RetryPolicy } from '../model/definition.js'

/**
 * Pure pieces of the retry policy: the backoff delay and a tiny seeded PRNG.
 * The jitter source is a 32-bit PRNG state carried in the task's context (seeded by the runtime from its injected
 * random source), so a restored or replayed actor draws the same delays and the machine never calls Math.random().
 */

/** Advances a mulberry32 state; returns the next state and a uniform draw in [0, 1). */
export function nextRandom(state: number): { state: number; value: number } {
  const next = (state + 0x6d2b79f5) >>> 0
  let t = next
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return { state: next, value: ((t ^ (t >>> 14)) >>> 0) / 4294967296 }
}

/** The un-jittered delay in milliseconds before retry number `retry` (1 for the first retry). */
export function baseBackoffMs(policy: RetryPolicy, retry: number): number {
  const seconds = Math.min(policy.max_interval, policy.initial_interval * policy.backoff_coefficient ** Math.max(0, retry - 1))
  return Math.round(seconds * 1000)
}

/**
 * The delay before retry number `retry`, with jitter drawn from `u` in [0, 1):
 * full jitter (`true`) gives [0, d]; a fraction f gives [d·(1−f), d]; none gives d.
 */
export function backoffMs(policy: RetryPolicy, retry: number, u: number): number {
  const d = baseBackoffMs(policy, retry)
  const jitter = policy.jitter === true ? 1 : policy.jitter === false ? 0 : policy.jitter
  return Math.round(d * (1 - jitter * u))
}
