import { expect, it } from 'vitest'
import { SimulatedClock } from 'xstate'
import { sleepOn } from '../src/clock.js'

it('sleeps longer than one timer can wait (2^31 − 1 ms) without firing early', async () => {
  const clock = new SimulatedClock()
  let done = false
  const thirtyDays = 30 * 86_400_000
  const sleeping = sleepOn(clock, thirtyDays).then(() => (done = true))
  clock.increment(2 ** 31 - 1)
  await Promise.resolve()
  expect(done).toBe(false)
  clock.increment(thirtyDays - (2 ** 31 - 1) - 1)
  await Promise.resolve()
  expect(done).toBe(false)
  clock.increment(1)
  await sleeping
  expect(done).toBe(true)
})

it('an aborted sleep rejects with the signal reason and clears its timer', async () => {
  const clock = new SimulatedClock()
  const controller = new AbortController()
  const sleeping = sleepOn(clock, 1000, controller.signal)
  controller.abort(new Error('stop'))
  await expect(sleeping).rejects.toThrow('stop')
})
