/** A counting semaphore: the per-process limit on task attempts in flight. Waiters are served in order. */
export function createSemaphore(limit: number) {
  let used = 0
  let held = false
  const waiters: Array<() => void> = []
  let idle: Array<() => void> = []
  return {
    /** Grants no slot from now on (a draining node: attempts in flight finish, none starts); waiters keep waiting. */
    hold(): void {
      held = true
    },
    /** Resolves once no slot is in use. */
    idle(): Promise<void> {
      return used === 0 ? Promise.resolve() : new Promise((resolve) => idle.push(resolve))
    },
    get inUse() {
      return used
    },
    get waiting() {
      return waiters.length
    },
    /** Takes a slot if one is free now (nobody waiting): the common case, without a promise. */
    tryAcquire(): boolean {
      if (used >= limit || waiters.length > 0 || held) return false
      used++
      return true
    },
    /** Resolves when a slot is held; rejects (and queues nothing) if `signal` aborts first. */
    acquire(signal?: AbortSignal): Promise<void> {
      if (used < limit && waiters.length === 0 && !held) {
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
      const next = held ? undefined : waiters.shift()
      if (next) next()
      if (used === 0 && idle.length > 0) {
        const resolved = idle
        idle = []
        for (const resolve of resolved) resolve()
      }
    },
  }
}
export type Semaphore = ReturnType<typeof createSemaphore>
