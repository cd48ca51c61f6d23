/**
 * The clock every timer of the runtime goes through: XState's `Clock` (so `SimulatedClock` drives machines, handlers
 * and the runtime alike) plus `now()` for timestamps.
 */
export type Clock = {
  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown
  clearTimeout(id: unknown): void
  now?(): number
}

export const systemClock: Required<Clock> = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as NodeJS.Timeout),
  now: () => Date.now(),
}

/** Resolves after `ms` on `clock`; rejects with the signal's reason when it aborts first. */
export function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error)
    const onAbort = () => {
      clock.clearTimeout(id)
      reject(signal!.reason as Error)
    }
    const id = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
