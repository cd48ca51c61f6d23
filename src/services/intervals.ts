/**
 * The background loops of a node (claims, renewals, polls): real-time intervals that never keep the process alive
 * and stop together. Leases and polls are about wall time, never the engine's injected clock.
 */
export function createIntervals() {
  const timers: NodeJS.Timeout[] = []
  return {
    every(ms: number, run: () => void): void {
      const timer = setInterval(run, ms)
      timer.unref()
      timers.push(timer)
    },
    clear(): void {
      for (const timer of timers) clearInterval(timer)
      timers.length = 0
    },
  }
}
