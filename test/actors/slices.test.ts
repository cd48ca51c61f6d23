import { describe, expect, it } from 'vitest'
import { createSlicer } from '../../src/actors/slices.js'

/** Where each call ran: `micro` (before the loop turned) or `immediate` (after pending I/O). */
async function runs(slicer: (fn: () => void) => void, calls: number, advance: () => void): Promise<string[]> {
  const ran: string[] = []
  let turned = false
  setImmediate(() => (turned = true))
  for (let i = 0; i < calls; i++) {
    slicer(() => ran.push(turned ? 'immediate' : 'micro'))
    advance()
  }
  await new Promise((resolve) => setImmediate(resolve))
  await new Promise((resolve) => setImmediate(resolve))
  return ran
}

describe('createSlicer', () => {
  it('runs the first call of a burst as a microtask however long the process was idle before it', async () => {
    let now = 0
    const slicer = createSlicer(() => now)
    expect(await runs(slicer, 1, () => {})).toEqual(['micro'])
    now += 60_000 // a minute idle: it does not count against the next burst
    expect(await runs(slicer, 1, () => {})).toEqual(['micro'])
  })

  it('defers to after pending I/O once a burst has lasted its slice (10 ms), and opens a fresh slice after the turn', async () => {
    let now = 0
    const slicer = createSlicer(() => now)
    // Each call advances the clock by 4 ms: the calls at 0, 4 and 8 ms fit the slice, those after it wait for I/O.
    expect(await runs(slicer, 5, () => (now += 4))).toEqual(['micro', 'micro', 'micro', 'immediate', 'immediate'])
    expect(await runs(slicer, 2, () => {})).toEqual(['micro', 'micro'])
  })
})
