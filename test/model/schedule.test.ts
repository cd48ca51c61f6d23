import { describe, expect, it } from 'vitest'
import { parseWorkflowDefinition } from '../../src/model/validate.js'
import { ValidationError } from '../../src/errors.js'
import { catchUpTicks, cronProblem, nextTick, nextTicks, ticksBetween, type Schedule } from '../../src/model/schedule.js'

/** The pure part of schedules (API.md "Schedules"): cron arithmetic, which missed ticks run, and validation. */

const T0 = Date.parse('2026-01-01T00:00:00Z')
const min = 60_000
const every5: Schedule = { cron: '*/5 * * * *', timezone: 'UTC', input: {}, catch_up: 'skip', enabled: true }
const at = (ms: number) => new Date(ms).toISOString()

describe('cron arithmetic', () => {
  it('next ticks are strictly after the instant given', () => {
    expect(nextTick(every5, T0)).toBe(T0 + 5 * min)
    expect(nextTick(every5, T0 + 1)).toBe(T0 + 5 * min)
    expect(nextTicks(every5, T0, 3).map(at)).toEqual(['2026-01-01T00:05:00.000Z', '2026-01-01T00:10:00.000Z', '2026-01-01T00:15:00.000Z'])
  })

  it('ticks between two instants: after excluded, up-to included, the newest `limit`, oldest first', () => {
    expect(ticksBetween(every5, T0, T0 + 30 * min, 100)).toHaveLength(6)
    expect(ticksBetween(every5, T0, T0 + 30 * min, 2).map(at)).toEqual(['2026-01-01T00:25:00.000Z', '2026-01-01T00:30:00.000Z'])
    expect(ticksBetween(every5, T0 + 5 * min, T0 + 9 * min, 100)).toEqual([])
    expect(ticksBetween(every5, T0 + 10 * min, T0 + 10 * min, 100)).toEqual([])
  })

  it('six fields: the first is seconds; a time zone moves the ticks', () => {
    const seconds: Schedule = { ...every5, cron: '*/10 * * * * *' }
    expect(nextTicks(seconds, T0, 2)).toEqual([T0 + 10_000, T0 + 20_000])
    const berlin: Schedule = { ...every5, cron: '0 9 * * *', timezone: 'Europe/Berlin' }
    expect(at(nextTick(berlin, T0)!)).toBe('2026-01-01T08:00:00.000Z')
  })

  it('catch_up: skip runs none of the missed ticks, once the latest, all each of them (at most 100, the newest)', () => {
    const missed = (catch_up: Schedule['catch_up']) => catchUpTicks({ ...every5, catch_up }, T0 + 5 * min, T0 + 21 * min).map(at)
    expect(missed('skip')).toEqual([])
    expect(missed('once')).toEqual(['2026-01-01T00:20:00.000Z'])
    expect(missed('all')).toEqual(['2026-01-01T00:10:00.000Z', '2026-01-01T00:15:00.000Z', '2026-01-01T00:20:00.000Z'])
    const perSecond: Schedule = { ...every5, cron: '* * * * * *', catch_up: 'all' }
    const many = catchUpTicks(perSecond, T0, T0 + 1000 * 1000)
    expect(many).toHaveLength(100)
    expect(many.at(-1)).toBe(T0 + 1000 * 1000)
    expect(many[0]).toBe(T0 + 901 * 1000)
  })

  it('cronProblem names bad patterns and bad time zones', () => {
    expect(cronProblem('*/5 * * * *', 'UTC')).toBeUndefined()
    expect(cronProblem('0 */5 * * * *', 'America/New_York')).toBeUndefined()
    expect(cronProblem('61 * * * *', 'UTC')).toMatch(/not a valid cron expression/)
    expect(cronProblem('* * * *', 'UTC')).toMatch(/not a valid cron expression/)
    expect(cronProblem('0 0 0 1 1 * 2030', 'UTC')).toMatch(/not a valid cron expression/)
    expect(cronProblem('* * * * *', 'Mars/Olympus')).toMatch(/time zone/)
    expect(cronProblem('0 0 30 2 *', 'UTC')).toMatch(/never matches/)
  })
})

describe('schedules in a workflow definition', () => {
  const body = (schedules: unknown, extra: Record<string, unknown> = {}) => ({
    name: 'wf',
    tasks: [{ id: 'a', component: 'harmonia', action: 'noop' }],
    schedules,
    ...extra,
  })
  const errorsOf = (value: unknown) => {
    try {
      parseWorkflowDefinition(value)
    } catch (error) {
      if (error instanceof ValidationError) return error.errors
      throw error
    }
    throw new Error('accepted')
  }

  it('are kept with their defaults; none given → no schedules field', () => {
    expect(parseWorkflowDefinition(body([{ cron: '*/5 * * * *' }])).schedules).toEqual([
      { cron: '*/5 * * * *', timezone: 'UTC', input: {}, catch_up: 'skip', enabled: true },
    ])
    expect(parseWorkflowDefinition(body(undefined))).not.toHaveProperty('schedules')
  })

  it('an invalid cron or time zone is refused naming schedules[i].cron', () => {
    expect(errorsOf(body([{ cron: 'every minute' }]))).toEqual([
      { path: 'schedules[0].cron', message: expect.stringMatching(/^schedules\[0\]\.cron "every minute" is not a valid cron/) },
    ])
    expect(errorsOf(body([{ cron: '* * * * *' }, { cron: '* * * * *', timezone: 'Nowhere/Land' }]))).toEqual([
      { path: 'schedules[1].cron', message: expect.stringMatching(/time zone/) },
    ])
    expect(errorsOf(body([{ cron: '* * * * *' }, { cron: '* * * * *' }]))[0]).toMatchObject({ path: 'schedules[1].cron' })
    expect(errorsOf(body([{ cron: 5 }]))[0]).toMatchObject({ path: 'schedules[0].cron' })
    expect(errorsOf(body([{ cron: '* * * * *', catch_up: 'sometimes' }]))[0]).toMatchObject({ path: 'schedules[0].catch_up' })
    expect(errorsOf(body({ cron: '* * * * *' }))[0]).toMatchObject({ path: 'schedules' })
  })

  it("a schedule's input is checked against the workflow's input", () => {
    const input = { n: { type: 'integer', required: true } }
    expect(errorsOf(body([{ cron: '* * * * *', input: { n: 'x' } }], { input }))[0]).toMatchObject({ path: 'schedules[0].input.n' })
    expect(parseWorkflowDefinition(body([{ cron: '* * * * *', input: { n: 2 } }], { input })).schedules![0]!.input).toEqual({ n: 2 })
  })
})
