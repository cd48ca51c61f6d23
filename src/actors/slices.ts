import { performance } from 'node:perf_hooks'

/** How long the runtime may keep the event loop busy with task starts before it lets I/O through. */
const SLICE_MS = 10

/**
 * Runs each `fn` after the current transition: as a microtask while the process has been busy for less than a
 * slice, otherwise after pending I/O (setImmediate). Fast in-memory handlers could otherwise chain microtasks for
 * seconds, starving commits, timers and HTTP; a slice of a few milliseconds keeps short executions in one tick.
 */
export function createSlicer(): (fn: () => void) => void {
  let sliceStart = performance.now()
  let sliceScheduled = false
  return (fn) => {
    if (performance.now() - sliceStart < SLICE_MS) {
      queueMicrotask(fn)
      return
    }
    if (!sliceScheduled) {
      sliceScheduled = true
      setImmediate(() => {
        sliceScheduled = false
        sliceStart = performance.now()
      })
    }
    setImmediate(fn)
  }
}
