/**
 * The clock every timer of the runtime goes through: XState's `Clock` (so `SimulatedClock` drives machines, handlers
 * and the runtime alike) plus `now()` for timestamps.
 */
export type Clock = {
  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown
  clearTimeout(id: unknown): void
  now?(): number
}

/** Runs `fn` after `ms` on `clock`, or on the next microtask when nothing is left to wait. */
export function after(clock: Clock, ms: number, fn: () => void): unknown {
  if (ms > 0) return clock.setTimeout(fn, ms)
  queueMicrotask(fn)
  return null
}

export const systemClock: Required<Clock> = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as NodeJS.Timeout),
  now: () => Date.now(),
}

/** The longest single timer: Node fires a longer setTimeout after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** Resolves after `ms` on `clock` (in steps, so any length works); rejects with the signal's reason when it aborts first. */
export function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error)
    // Nothing left to wait (a durable timer that fell due while the process was down): no timer at all, since a
    // simulated clock only fires timers when it is advanced.
    if (!(ms > 0)) return resolve()
    let left = ms
    let id: unknown
    const onAbort = () => {
      clock.clearTimeout(id)
      reject(signal!.reason as Error)
    }
    const step = () => {
      const now = Math.min(left, MAX_TIMER_MS)
      left -= now
      id = clock.setTimeout(() => {
        if (left > 0) return step()
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }, now)
    }
    step()
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
