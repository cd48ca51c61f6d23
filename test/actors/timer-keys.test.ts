import { describe, expect, it } from 'vitest'
import { parseTimerKey, retryKey, sleepKey, TIMEOUT_KEY, timerTask } from '../../src/actors/timer-keys.js'

describe('durable timer keys', () => {
  it('round-trip, also for task ids that hold colons', () => {
    expect(parseTimerKey(TIMEOUT_KEY)).toEqual({ kind: 'timeout' })
    expect(parseTimerKey(retryKey('a:b'))).toEqual({ kind: 'retry', taskId: 'a:b' })
    expect(parseTimerKey(sleepKey('x:1:2', 3, 0))).toEqual({ kind: 'sleep', taskId: 'x:1:2', attempt: 3, n: 0 })
    expect(parseTimerKey('something else')).toBeNull()
  })

  it('name the task that owns them (cleared when it settles); the timeout belongs to none', () => {
    expect(timerTask(retryKey('fetch'))).toBe('fetch')
    expect(timerTask(sleepKey('wait', 1, 4))).toBe('wait')
    expect(timerTask(TIMEOUT_KEY)).toBeUndefined()
  })

  it('a later attempt never finds an earlier attempt’s sleeps', () => {
    expect(sleepKey('t', 1, 0)).not.toBe(sleepKey('t', 2, 0))
  })
})
