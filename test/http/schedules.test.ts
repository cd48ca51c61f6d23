import { afterEach, beforeEach, expect, it } from 'vitest'
import { SimulatedClock } from 'xstate'
import { getHarmoniaClient } from '../../src/client/index.js'
import { createHarmonia, type Harmonia } from '../../src/harmonia.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { apiClient, type ApiCall } from '../support/api.js'
import { describeEachStore, testStore } from '../support/harness.js'

/**
 * Schedules over HTTP (API.md "Schedules"), through a real listening server on every store: schedules kept and
 * returned with the workflow, `GET /api/workflows/{id}/schedules`, 422 problem+json naming `schedules[i].cron`, and a
 * tick's execution visible through the API. The engine runs on a simulated clock so the listed times are known.
 */

const T0 = Date.parse('2026-01-01T00:00:00Z')
const noop = [{ id: 'a', component: 'harmonia', action: 'noop' }]

let server: RunningServer
let harmonia: Harmonia
let clock: SimulatedClock
let call: ApiCall

describeEachStore('HTTP schedules', () => {
  beforeEach(async () => {
    clock = new SimulatedClock()
    clock.set(T0)
    harmonia = await createHarmonia({ store: testStore(), clock, random: () => 0.5 })
    server = await startServer({ harmonia, port: 0, hostname: '127.0.0.1', tokens: [] })
    call = apiClient(() => server.url)
  })
  afterEach(async () => {
    await server.close()
    await harmonia.close()
  })

  it('a workflow keeps its schedules; GET …/schedules lists them with the next 5 run times, then the last tick', async () => {
    const created = await call('POST', '/api/workflows', {
      name: 'nightly',
      tasks: noop,
      schedules: [
        { cron: '*/5 * * * *' },
        { cron: '0 30 9 * * 1-5', timezone: 'Europe/Berlin', catch_up: 'once', input: { k: 1 } },
        { cron: '0 0 * * *', enabled: false },
      ],
    })
    expect(created.status).toBe(201)
    const id = created.body.workflow_id as string
    const stored = [
      { cron: '*/5 * * * *', timezone: 'UTC', input: {}, catch_up: 'skip', enabled: true },
      { cron: '0 30 9 * * 1-5', timezone: 'Europe/Berlin', input: { k: 1 }, catch_up: 'once', enabled: true },
      { cron: '0 0 * * *', timezone: 'UTC', input: {}, catch_up: 'skip', enabled: false },
    ]
    expect(created.body.schedules).toEqual(stored)
    expect((await call('GET', `/api/workflows/${id}`)).body.schedules).toEqual(stored)

    const listed = await call('GET', `/api/workflows/${id}/schedules`)
    expect(listed.status).toBe(200)
    expect(listed.body).toEqual([
      {
        cron: '*/5 * * * *',
        timezone: 'UTC',
        enabled: true,
        next_run_times: ['00:05', '00:10', '00:15', '00:20', '00:25'].map((t) => `2026-01-01T${t}:00.000Z`),
      },
      {
        cron: '0 30 9 * * 1-5',
        timezone: 'Europe/Berlin',
        enabled: true,
        // 2026-01-01 is a Thursday; 09:30 in Berlin is 08:30 UTC in winter.
        next_run_times: ['01-01', '01-02', '01-05', '01-06', '01-07'].map((d) => `2026-${d}T08:30:00.000Z`),
      },
      { cron: '0 0 * * *', timezone: 'UTC', enabled: false, next_run_times: [] },
    ])
    expect((await call('GET', `/api/v1/workflows/${id}/schedules`)).body).toEqual(listed.body)

    clock.increment(5 * 60_000)
    await harmonia.flush()
    const runs = await call('GET', `/api/executions?workflow_id=${id}`)
    expect(runs.body.items).toHaveLength(1)
    expect(runs.body.items[0].metadata).toEqual({ schedule: { cron: '*/5 * * * *', tick: '2026-01-01T00:05:00.000Z' } })
    const after = await getHarmoniaClient({ url: server.url }).listSchedules(id)
    expect(after[0]).toMatchObject({
      last_tick: '2026-01-01T00:05:00.000Z',
      next_run_times: expect.arrayContaining(['2026-01-01T00:10:00.000Z']),
    })
    expect(after[1]).not.toHaveProperty('last_tick')

    // A new version replaces the schedules; deleting the workflow ends them (and the route answers 404).
    const updated = await call('PUT', `/api/workflows/${id}`, { schedules: [{ cron: '*/10 * * * *' }] })
    expect(updated.status).toBe(200)
    expect((await call('GET', `/api/workflows/${id}/schedules`)).body.map((s: { cron: string }) => s.cron)).toEqual(['*/10 * * * *'])
    await harmonia.waitForExecution(runs.body.items[0].execution_id)
    expect((await call('DELETE', `/api/workflows/${id}`)).status).toBe(204)
    expect((await call('GET', `/api/workflows/${id}/schedules`)).status).toBe(404)
  })

  it('an invalid cron or time zone → 422 problem+json naming schedules[i].cron, at create and at update', async () => {
    const bad = await call('POST', '/api/workflows', { name: 'bad', tasks: noop, schedules: [{ cron: '*/5 * * *' }] })
    expect(bad.status).toBe(422)
    expect(bad.type).toMatch(/^application\/problem\+json/)
    expect(bad.body.errors).toEqual([{ path: 'schedules[0].cron', message: expect.stringContaining('schedules[0].cron') }])

    const zone = await call('POST', '/api/workflows', {
      name: 'bad zone',
      tasks: noop,
      schedules: [{ cron: '* * * * *' }, { cron: '* * * * *', timezone: 'Atlantis/Capital' }],
    })
    expect(zone.status).toBe(422)
    expect(zone.body.errors.map((e: { path: string }) => e.path)).toEqual(['schedules[1].cron'])
    expect(zone.body.errors[0].message).toMatch(/time zone/)

    const ok = await call('POST', '/api/workflows', { name: 'ok', tasks: noop, schedules: [{ cron: '*/30 * * * * *' }] })
    expect(ok.status).toBe(201)
    const update = await call('PUT', `/api/workflows/${ok.body.workflow_id}`, { schedules: [{ cron: '99 * * * *' }] })
    expect(update.status).toBe(422)
    expect(update.body.errors[0].path).toBe('schedules[0].cron')
    expect((await call('DELETE', `/api/workflows/${ok.body.workflow_id}`)).status).toBe(204)
  })

  it('GET …/schedules of an unknown workflow → 404; of one without schedules → []', async () => {
    const unknown = await call('GET', '/api/workflows/01900000-0000-7000-8000-000000000999/schedules')
    expect(unknown.status).toBe(404)
    expect(unknown.type).toMatch(/^application\/problem\+json/)
    expect((await call('GET', '/api/workflows/not-a-uuid/schedules')).status).toBe(404)
    const plain = await call('POST', '/api/workflows', { name: 'plain', tasks: noop })
    expect(plain.body).not.toHaveProperty('schedules')
    expect((await call('GET', `/api/workflows/${plain.body.workflow_id}/schedules`)).body).toEqual([])
  })
})
