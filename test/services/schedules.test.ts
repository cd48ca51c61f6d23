import { describe, expect, it } from 'vitest'
import { SimulatedClock } from 'xstate'
import { createMemoryStore } from '../../src/db/memory.store.js'
import type { Store } from '../../src/db/store.js'
import { UnavailableError } from '../../src/errors.js'
import { createLogger } from '../../src/logger.js'
import { createHarmonia, type Harmonia, type HarmoniaOptions } from '../../src/harmonia.js'
import { describeEachStore, testStore } from '../support/harness.js'

/**
 * Cron schedules (API.md "Schedules") in the embedded engine, on a simulated clock, on every store: one execution per
 * tick, exactly once across restarts and across two engines sharing a store, catch-up after downtime, a crash between
 * a tick's row and its execution, versions, disabling and deleting.
 */

const T0 = Date.parse('2026-01-01T00:00:00Z')
const MIN = 60_000
const at = (minutes: number) => new Date(T0 + minutes * MIN).toISOString()
const noop = [{ id: 'a', component: 'harmonia', action: 'noop' }]

type Schedule = { cron: string; catch_up?: string; enabled?: boolean; input?: Record<string, unknown>; timezone?: string }

function setup(store: Store = testStore()) {
  const clock = new SimulatedClock()
  clock.set(T0)
  const opened: Harmonia[] = []
  const open = async (options: HarmoniaOptions = {}) => {
    const h = await createHarmonia({ store, clock, random: () => 0.5, ...options })
    opened.push(h)
    return h
  }
  /** Moves the clock minute by minute; after each step every engine has taken the ticks due and committed them. */
  const advance = async (minutes: number, engines: Harmonia[]) => {
    for (let i = 0; i < minutes; i++) {
      clock.increment(MIN)
      for (const h of engines) await h.flush()
    }
  }
  return { store, clock, open, advance, opened }
}

async function scheduled(h: Harmonia, schedules: Schedule[], extra: Record<string, unknown> = {}) {
  return h.createWorkflow({ name: `scheduled ${Math.random()}`, tasks: noop, schedules, ...extra })
}

/** The ticks of the workflow's executions, oldest first (duplicates kept, so a tick started twice shows). */
async function ticksOf(h: Harmonia, workflowId: string): Promise<string[]> {
  await h.flush()
  const page = await h.listExecutions({ workflow_id: workflowId, limit: 1000 })
  return page.items.map((e) => (e.metadata.schedule as { tick: string }).tick).sort()
}

/** Deletes the workflow once its executions are over, so that later tests on the shared database do not follow it. */
async function cleanup(h: Harmonia, workflowId: string) {
  await h.flush()
  for (const e of (await h.listExecutions({ workflow_id: workflowId, limit: 1000 })).items) await h.waitForExecution(e.execution_id)
  await h.deleteWorkflow(workflowId)
}

describeEachStore('schedules', () => {
  it('*/5 * * * * over 30 minutes starts exactly 6 executions, each within 1 s of its tick, with metadata.schedule and the input', async () => {
    const s = setup()
    const h = await s.open()
    const wf = await scheduled(h, [{ cron: '*/5 * * * *', input: { who: 'cron' } }], { input: { who: { type: 'string' } } })
    await s.advance(30, [h])
    const runs = (await h.listExecutions({ workflow_id: wf.workflow_id, limit: 100 })).items
    expect(runs).toHaveLength(6)
    expect(await ticksOf(h, wf.workflow_id)).toEqual([at(5), at(10), at(15), at(20), at(25), at(30)])
    for (const run of runs) {
      const tick = (run.metadata.schedule as { tick: string }).tick
      expect(run.metadata).toEqual({ schedule: { cron: '*/5 * * * *', tick } })
      expect(run.input).toEqual({ who: 'cron' })
      expect(Date.parse(run.start_time!) - Date.parse(tick)).toBeLessThan(1000)
    }
    expect(await h.listSchedules(wf.workflow_id)).toEqual([
      {
        cron: '*/5 * * * *',
        timezone: 'UTC',
        enabled: true,
        next_run_times: [at(35), at(40), at(45), at(50), at(55)],
        last_tick: at(30),
      },
    ])
    await cleanup(h, wf.workflow_id)
    await h.close()
  })

  it('a restart in the middle never starts a tick twice (even with catch_up: all, even a restart right at a tick)', async () => {
    const s = setup()
    const a = await s.open()
    const wf = await scheduled(a, [{ cron: '*/5 * * * *', catch_up: 'all' }])
    await s.advance(12, [a])
    expect(await ticksOf(a, wf.workflow_id)).toEqual([at(5), at(10)])
    await a.close()

    const b = await s.open()
    await s.advance(3, [b]) // 00:15: taken by b
    await b.close()
    const c = await s.open() // at 00:15 exactly: the tick b took is not taken again
    await s.advance(15, [c])
    expect(await ticksOf(c, wf.workflow_id)).toEqual([at(5), at(10), at(15), at(20), at(25), at(30)])
    await cleanup(c, wf.workflow_id)
    await c.close()
  })

  it('two engines on one store (two nodes) start each tick once', async () => {
    const s = setup()
    const a = await s.open()
    const b = await s.open()
    const wf = await scheduled(a, [{ cron: '*/5 * * * *' }])
    // b learns of the workflow the way a restarted node would: it reads the workflows when it starts.
    await b.close()
    const b2 = await s.open()
    await s.advance(20, [a, b2])
    expect(await ticksOf(a, wf.workflow_id)).toEqual([at(5), at(10), at(15), at(20)])
    // b2 did follow the schedule all along: alone, it takes the next tick.
    await a.close()
    await s.advance(5, [b2])
    expect(await ticksOf(b2, wf.workflow_id)).toEqual([at(5), at(10), at(15), at(20), at(25)])
    await cleanup(b2, wf.workflow_id)
    await b2.close()
  })

  for (const [catchUp, expected, onTime] of [
    ['once', [at(20)], [at(20), at(25)]],
    ['all', [at(10), at(15), at(20)], [at(10), at(15), at(20), at(25)]],
    ['skip', [], [at(25)]],
  ] as const) {
    it(`downtime across 3 ticks with catch_up: ${catchUp} starts ${expected.length}; the next tick runs on time`, async () => {
      const s = setup()
      const a = await s.open()
      const wf = await scheduled(a, [{ cron: '*/5 * * * *', catch_up: catchUp }])
      await s.advance(6, [a])
      expect(await ticksOf(a, wf.workflow_id)).toEqual([at(5)])
      await a.close()
      s.clock.increment(15 * MIN) // 00:21: nobody ran at 00:10, 00:15, 00:20

      const b = await s.open()
      expect((await ticksOf(b, wf.workflow_id)).slice(1)).toEqual(expected)
      await s.advance(4, [b])
      expect((await ticksOf(b, wf.workflow_id)).slice(1)).toEqual(onTime)
      const runs = (await b.listExecutions({ workflow_id: wf.workflow_id, limit: 100 })).items
      const onTimeRun = runs.find((r) => (r.metadata.schedule as { tick: string }).tick === at(25))!
      expect(Date.parse(onTimeRun.start_time!) - Date.parse(at(25))).toBeLessThan(1000)
      await cleanup(b, wf.workflow_id)
      await b.close()
    })
  }

  it('catch_up: all runs at most the 100 newest missed ticks (a six-field cron: every second)', async () => {
    const s = setup()
    const a = await s.open()
    const wf = await scheduled(a, [{ cron: '* * * * * *', catch_up: 'all' }])
    s.clock.increment(1000)
    await a.flush()
    expect(await ticksOf(a, wf.workflow_id)).toEqual([new Date(T0 + 1000).toISOString()])
    await a.close()
    s.clock.increment(299_000) // 00:05:00; ticks 00:00:02 … 00:05:00 were missed
    const b = await s.open()
    const ticks = await ticksOf(b, wf.workflow_id)
    expect(ticks).toHaveLength(101)
    expect(ticks[1]).toBe(new Date(T0 + 201_000).toISOString())
    expect(ticks.at(-1)).toBe(at(5))
    await cleanup(b, wf.workflow_id)
    await b.close()
  })

  it('a crash between a tick and its execution: the next start starts the execution the tick names, once', async () => {
    const s = setup()
    const a = await s.open()
    const wf = await scheduled(a, [{ cron: '*/5 * * * *', input: { from: 'tick' } }], { input: { from: { type: 'string' } } })
    const other = await a.startExecution({ workflow_id: wf.workflow_id })
    await a.waitForExecution(other.execution_id)
    await a.close()
    const key = 'UTC */5 * * * *'
    const orphan = '01900000-0000-7000-8000-00000000abcd'
    // What a crash leaves: the row is claimed, its execution never committed (and one whose execution did commit).
    expect(
      await s.store.schedules.claimTick({
        workflow_id: wf.workflow_id,
        schedule: key,
        tick: at(-5),
        execution_id: orphan,
        created_at: at(-5),
        started: false,
      }),
    ).toBe(true)
    await s.store.schedules.claimTick({
      workflow_id: wf.workflow_id,
      schedule: key,
      tick: at(-10),
      execution_id: other.execution_id,
      created_at: at(-10),
      started: false,
    })

    const b = await s.open()
    await b.flush()
    const resumed = await b.waitForExecution(orphan)
    expect(resumed).toMatchObject({
      status: 'completed',
      input: { from: 'tick' },
      metadata: { schedule: { cron: '*/5 * * * *', tick: at(-5) } },
    })
    expect((await b.listExecutions({ workflow_id: wf.workflow_id })).total).toBe(2)
    expect(await s.store.schedules.unstarted()).toEqual([])
    await b.close()

    const c = await s.open() // nothing left to resume: nothing starts again
    await c.flush()
    expect((await c.listExecutions({ workflow_id: wf.workflow_id })).total).toBe(2)
    await cleanup(c, wf.workflow_id)
    await c.close()
  })

  it('disabled schedules are listed and never run; a new version replaces the schedules; deleting the workflow stops them', async () => {
    const s = setup()
    const h = await s.open()
    const wf = await scheduled(h, [
      { cron: '*/5 * * * *', enabled: false },
      { cron: '0 9 * * *', timezone: 'Europe/Berlin' },
    ])
    expect(wf.schedules).toEqual([
      { cron: '*/5 * * * *', timezone: 'UTC', input: {}, catch_up: 'skip', enabled: false },
      { cron: '0 9 * * *', timezone: 'Europe/Berlin', input: {}, catch_up: 'skip', enabled: true },
    ])
    const listed = await h.listSchedules(wf.workflow_id)
    expect(listed[0]).toEqual({ cron: '*/5 * * * *', timezone: 'UTC', enabled: false, next_run_times: [] })
    expect(listed[1]!.next_run_times[0]).toBe('2026-01-01T08:00:00.000Z')
    await s.advance(10, [h])
    expect(await ticksOf(h, wf.workflow_id)).toEqual([])

    await h.updateWorkflow(wf.workflow_id, { schedules: [{ cron: '*/2 * * * *' }] })
    await s.advance(5, [h]) // 00:11 … 00:15
    expect(await ticksOf(h, wf.workflow_id)).toEqual([at(12), at(14)])
    expect((await h.listSchedules(wf.workflow_id)).map((x) => x.cron)).toEqual(['*/2 * * * *'])

    await cleanup(h, wf.workflow_id)
    await s.advance(4, [h])
    await expect(h.listSchedules(wf.workflow_id)).rejects.toMatchObject({ code: 'not_found' })
    // The two executions of before stay (executions outlive their workflow); no tick started a new one.
    expect((await h.listExecutions({ workflow_id: wf.workflow_id })).total).toBe(2)
    expect(await s.store.schedules.lastTicks(wf.workflow_id)).toEqual([])
    await h.close()
  })

  it('a tick that cannot start an execution is recorded, logged, and the scheduler carries on', async () => {
    const s = setup()
    const h = await s.open()
    // A template source (${params.*}) cannot run directly: each of its ticks starts nothing.
    const source = await h.createWorkflow({
      name: 'template source',
      tasks: [{ id: 'e', component: 'harmonia', action: 'echo', input: { v: '${params.v}' } }],
      schedules: [{ cron: '* * * * *' }],
    })
    const wf = await scheduled(h, [{ cron: '* * * * *' }])
    await s.advance(2, [h])
    expect(await ticksOf(h, wf.workflow_id)).toEqual([at(1), at(2)])
    expect((await h.listExecutions({ workflow_id: source.workflow_id })).total).toBe(0)
    expect((await h.listSchedules(source.workflow_id))[0]!.last_tick).toBe(at(2))
    await cleanup(h, wf.workflow_id)
    await h.deleteWorkflow(source.workflow_id)
    await h.close()
  })

  it('an engine opened with schedules: false runs none', async () => {
    const s = setup()
    const h = await s.open({ schedules: false })
    const wf = await scheduled(h, [{ cron: '* * * * *' }])
    await s.advance(3, [h])
    expect(await ticksOf(h, wf.workflow_id)).toEqual([])
    await h.deleteWorkflow(wf.workflow_id)
    await h.close()
  })
})

describe('schedules while the database is away', () => {
  /** A memory store whose schedule queries fail while `down` says so, as a store does while it cannot reach Postgres. */
  function flaky() {
    const store = createMemoryStore()
    const state = { down: false }
    const guarded =
      <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
      (...args: A): Promise<R> =>
        state.down ? Promise.reject(new UnavailableError('the database cannot be reached')) : fn(...args)
    const schedules = store.schedules
    store.schedules = {
      claimTick: guarded((r) => schedules.claimTick(r)),
      markStarted: guarded((w, s, t) => schedules.markStarted(w, s, t)),
      lastTicks: guarded((w) => schedules.lastTicks(w)),
      unstarted: guarded(() => schedules.unstarted()),
      deleteWorkflow: guarded((w) => schedules.deleteWorkflow(w)),
    }
    return { store, state }
  }
  const quiet = createLogger({ level: 'silent' })

  it('a start-up load that fails is tried again each second until it succeeds', async () => {
    const { store, state } = flaky()
    const s = setup(store)
    const a = await s.open({ logger: quiet })
    const wf = await scheduled(a, [{ cron: '*/5 * * * *', catch_up: 'once' }])
    await s.advance(5, [a])
    await a.close()
    s.clock.increment(10 * MIN) // 00:15: the 00:10 and 00:15 ticks were missed
    state.down = true
    const b = await s.open({ logger: quiet })
    await b.flush()
    s.clock.increment(1000)
    await b.flush()
    expect(await ticksOf(b, wf.workflow_id)).toEqual([at(5)])
    state.down = false
    s.clock.increment(1000)
    await b.flush()
    expect(await ticksOf(b, wf.workflow_id)).toEqual([at(5), at(15)])
    await b.close()
  })

  it('a tick whose row cannot be written is taken a second later; one whose execution cannot start is resumed', async () => {
    const { store, state } = flaky()
    const s = setup(store)
    const h = await s.open({ logger: quiet })
    const wf = await scheduled(h, [{ cron: '* * * * *' }])
    state.down = true
    await s.advance(1, [h])
    expect(await ticksOf(h, wf.workflow_id)).toEqual([])
    state.down = false
    s.clock.increment(1000)
    await h.flush()
    expect(await ticksOf(h, wf.workflow_id)).toEqual([at(1)])
    const runs = (await h.listExecutions({ workflow_id: wf.workflow_id })).items
    expect(Date.parse(runs[0]!.start_time!) - Date.parse(at(1))).toBe(1000)

    // The row is written, then marking it started fails: the next wake finds the execution and only marks the row.
    const markStarted = store.schedules.markStarted
    let failures = 1
    store.schedules.markStarted = (...args) => (failures-- > 0 ? Promise.reject(new UnavailableError('away')) : markStarted(...args))
    s.clock.increment(59_000) // 00:02
    await h.flush()
    s.clock.increment(1000)
    await h.flush()
    expect(await ticksOf(h, wf.workflow_id)).toEqual([at(1), at(2)])
    expect(await store.schedules.unstarted()).toEqual([])
    await h.close()
  })
})
