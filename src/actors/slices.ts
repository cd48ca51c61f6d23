import { performance } from 'node:perf_hooks'

/** How long the runtime may keep the event loop busy with task starts before it lets I/O through. */
const SLICE_MS = 10

/**
 * Runs each `fn` after the current transition: as a microtask while the current burst of work (one macrotask and the
 * microtasks it chains) has lasted less than a slice, otherwise after pending I/O (setImmediate). Fast in-memory
 * handlers could otherwise chain microtasks for seconds, starving commits, timers and HTTP; a slice of a few
 * milliseconds keeps what fast tasks do in one tick, so one commit carries a task's end and the next task's start.
 * A burst opens its slice at its first call and the slice closes when the loop next turns: idle time before a burst
 * never counts against it.
 */
export function createSlicer(now: () => number = () => performance.now()): (fn: () => void) => void {
  let sliceStart = 0
  let open = false
  return (fn) => {
    if (!open) {
      open = true
      sliceStart = now()
      setImmediate(() => (open = false))
    }
    if (now() - sliceStart < SLICE_MS) queueMicrotask(fn)
    else setImmediate(fn)
  }
}
