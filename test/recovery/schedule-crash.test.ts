import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/db/client.js'
import { createSqlStore } from '../../src/db/sql.store.js'
import { until } from '../support/async.js'
import { drivers, type EmptyDatabase } from '../support/db.js'
import { cleanEnv, startNode, stop, stopAll } from '../support/processes.js'

/**
 * Schedules across a real crash (API.md "Schedules"): a child process taking an every-second schedule is killed with
 * SIGKILL at a random moment of its ticks (possibly between a tick's row and its execution), a second process takes
 * over with `catch_up: all`. On PGlite (a data folder) and Postgres: every tick from the first to the last started
 * exactly one execution — none twice, none lost — and no tick is left unstarted.
 */

const CHILD = join(import.meta.dirname, 'schedule-crash-child.ts')
const env = cleanEnv({ HARMONIA_LOG_LEVEL: 'error' })
const databases: EmptyDatabase[] = []

afterAll(async () => {
  await stopAll()
  for (const database of databases) await database.dispose()
})

for (const driver of drivers) {
  describe.skipIf(driver.skip)(`schedules across a crash on ${driver.title}`, { timeout: 120_000 }, () => {
    it('SIGKILL while ticking, then a restart: every tick started exactly one execution, none lost', async () => {
      const database = await driver.empty()
      databases.push(database)
      const db = database.location
      const first = startNode([CHILD, 'first', db], env)
      await until(() => (first.output().match(/^RAN /gm)?.length ?? 0) >= 3, 'three ticks', 60_000)
      expect(await stop(first, 'SIGKILL')).toBe(null)
      const workflowId = /^WORKFLOW (\S+)$/m.exec(first.output())![1]!

      const second = startNode([CHILD, 'second', db], env)
      await second.waitFor(/CLOSED/, 'the second process to close')
      expect(await second.exited).toBe(0)

      const store = createSqlStore(await openDatabase(db))
      try {
        const { items } = await store.executions.list({ limit: 1000, offset: 0, workflow_id: workflowId })
        const ticks = items.map((e) => Date.parse((e.metadata.schedule as { tick: string }).tick)).sort((a, b) => a - b)
        expect(new Set(ticks).size).toBe(ticks.length)
        // Consecutive seconds from the first tick to the last: the downtime's ticks were caught up, none twice.
        expect(ticks.length).toBeGreaterThanOrEqual(5)
        expect(ticks.at(-1)! - ticks[0]!).toBe((ticks.length - 1) * 1000)
        expect(await store.schedules.unstarted()).toEqual([])
        const last = await store.schedules.lastTicks(workflowId)
        expect(last.map((t) => Date.parse(t.tick))).toEqual([ticks.at(-1)])
        // Every execution a tick names exists (each tick row ↔ one execution).
        expect(new Set(items.map((e) => e.execution_id)).size).toBe(ticks.length)
      } finally {
        await store.close()
      }
    })
  })
}
