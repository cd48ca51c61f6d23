import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { ExecutionEvent } from '../../src/model/events.js'
import type { Execution } from '../../src/model/resources.js'
import { until } from '../support/async.js'
import { drivers, type EmptyDatabase } from '../support/db.js'
import { cleanEnv, startNode, stop, stopAll } from '../support/processes.js'

/**
 * SIGKILL in the middle of a 500-element fan-out (API.md "Fan-out", issue 10): after the restart each element has
 * exactly one `task_completed` event, the output is right and in order, and elements whose completion was committed
 * before the kill are not called again.
 */

const CHILD = join(import.meta.dirname, 'fan-out-child.ts')
const scratch = mkdtempSync(join(tmpdir(), 'harmonia-fan-crash-'))
const databases: EmptyDatabase[] = []

afterAll(async () => {
  await stopAll()
  for (const db of databases) await db.dispose()
  rmSync(scratch, { recursive: true, force: true })
})

for (const driver of drivers) {
  describe.skipIf(driver.skip)(`${driver.title}: fan-out across a SIGKILL`, () => {
    it('each element completes exactly once and the output is right', async () => {
      const database = await driver.empty()
      databases.push(database)
      const log = join(scratch, `${driver.name}.log`)
      const env = cleanEnv({ HARMONIA_LOG_LEVEL: 'error' })

      const first = startNode([CHILD, 'start', database.location, log], env)
      await first.waitFor(/EXECUTION /, 'the execution to start')
      await until(() => (first.output().match(/DONE \d+/g)?.length ?? 0) >= 200, '200 committed element completions', 60_000)
      await stop(first, 'SIGKILL')
      const committed = new Set([...first.output().matchAll(/DONE (\d+)/g)].map((m) => Number(m[1])))
      expect(committed.size).toBeGreaterThanOrEqual(200)
      expect(committed.size).toBeLessThan(500)

      const second = startNode([CHILD, 'resume', database.location, log], env)
      const [, json] = await second.waitFor(/RESULT (.*)\n/, 'the recovered execution to finish', 120_000)
      await second.exited
      const { execution, events } = JSON.parse(json!) as { execution: Execution; events: ExecutionEvent[] }

      expect(execution.status).toBe('completed')
      const each = execution.task_executions.each!
      expect(each.output).toEqual(Array.from({ length: 500 }, (_, i) => ({ v: i * 2 })))
      expect(each.items).toEqual({ total: 500, completed: 500, failed: 0, running: 0 })
      const completions = new Map<number, number>()
      for (const e of events) {
        if (e.type === 'task_completed' && e.data?.index !== undefined) completions.set(Number(e.data.index), (completions.get(Number(e.data.index)) ?? 0) + 1)
      }
      expect(completions.size).toBe(500)
      expect([...completions.values()].every((n) => n === 1)).toBe(true)
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1))

      // A completion committed before the kill is never computed again; others ran at most once more.
      const calls = new Map<number, number>()
      for (const line of readFileSync(log, 'utf8').split('\n').filter(Boolean)) {
        const index = Number(line.split(' ')[0])
        calls.set(index, (calls.get(index) ?? 0) + 1)
      }
      for (const index of committed) expect(calls.get(index)).toBe(1)
      expect(Math.max(...calls.values())).toBeLessThanOrEqual(2)
    }, 180_000)
  })
}
