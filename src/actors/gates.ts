/**
 * Pause gates of fan-out tasks. Pausing an execution lets running attempts finish and holds what follows them; for a
 * fan-out, what follows is its next elements: the runner waits at the gate before starting each one.
 */
export function createGates() {
  const held = new Map<string, Array<() => void>>()
  const key = (executionId: string, taskId: string) => `${executionId}\u0000${taskId}`
  return {
    hold(executionId: string, taskId: string): void {
      if (!held.has(key(executionId, taskId))) held.set(key(executionId, taskId), [])
    },
    release(executionId: string, taskId: string): void {
      const waiters = held.get(key(executionId, taskId))
      held.delete(key(executionId, taskId))
      for (const wake of waiters ?? []) wake()
    },
    /** Resolves at once unless the task is held; then when it is released, or rejects when `signal` aborts. */
    open(executionId: string, taskId: string, signal: AbortSignal): Promise<void> {
      const waiters = held.get(key(executionId, taskId))
      if (!waiters) return Promise.resolve()
      return new Promise((resolve, reject) => {
        const wake = () => {
          signal.removeEventListener('abort', onAbort)
          resolve()
        }
        const onAbort = () => {
          const at = waiters.indexOf(wake)
          if (at >= 0) waiters.splice(at, 1)
          reject(signal.reason as Error)
        }
        if (signal.aborted) return reject(signal.reason as Error)
        waiters.push(wake)
        signal.addEventListener('abort', onAbort, { once: true })
      })
    },
  }
}
export type Gates = ReturnType<typeof createGates>
