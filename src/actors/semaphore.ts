/** A counting semaphore: the per-process limit on task attempts in flight. Waiters are served in order. */
export function createSemaphore(limit: number) {
  let used = 0
  const waiters: Array<() => void> = []
  return {
    get inUse() {
      return used
    },
    get waiting() {
      return waiters.length
    },
    /** Resolves when a slot is held; rejects (and queues nothing) if `signal` aborts first. */
    acquire(signal?: AbortSignal): Promise<void> {
      if (used < limit && waiters.length === 0) {
        used++
        return Promise.resolve()
      }
      return new Promise((resolve, reject) => {
        const grant = () => {
          signal?.removeEventListener('abort', onAbort)
          used++
          resolve()
        }
        const onAbort = () => {
          const at = waiters.indexOf(grant)
          if (at >= 0) waiters.splice(at, 1)
          reject(signal!.reason as Error)
        }
        waiters.push(grant)
        signal?.addEventListener('abort', onAbort, { once: true })
      })
    },
    release(): void {
      used--
      const next = waiters.shift()
      if (next) next()
    },
  }
}
export type Semaphore = ReturnType<typeof createSemaphore>
