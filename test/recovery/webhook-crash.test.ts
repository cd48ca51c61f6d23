import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/db/client.js'
import { createSqlStore } from '../../src/db/sql.store.js'
import { until } from '../support/async.js'
import { drivers, type EmptyDatabase } from '../support/db.js'
import { cleanEnv, startNode, stop, stopAll } from '../support/processes.js'
import { closeReceivers, hasValidSignature, startReceiver } from '../support/webhook-receiver.js'

/**
 * Webhook delivery survives a SIGKILL (issue 11): a real child process subscribes a real receiver (node:http, here)
 * that answers 500 three times, then 200; the child is killed with SIGKILL right after the third 500, while it waits
 * for its backoff. A new process on the same database (a PGlite data folder, a Postgres database) resumes from the
 * stored cursor: the receiver gets every event of the execution, in seq order, signed with the secret that was stored
 * sealed; an event may come twice (at least once), never out of order, none missing.
 */

const CHILD = join(import.meta.dirname, 'webhook-child.ts')
const SECRET = 'crash-suite-webhook-secret'
const env = cleanEnv({ HARMONIA_LOG_LEVEL: 'error' })
const databases: EmptyDatabase[] = []

afterEach(async () => {
  await stopAll()
  await closeReceivers()
})
afterAll(async () => {
  for (const database of databases) await database.dispose()
})

for (const driver of drivers) {
  describe.skipIf(driver.skip)(`${driver.title}: webhook delivery across a SIGKILL`, () => {
    it('a receiver that answers 500 three times, then 200, gets every event once it recovers, across the kill', async () => {
      const receiver = await startReceiver((_, n) => ({ status: n < 3 ? 500 : 200 }))
      const database = await driver.empty()
      databases.push(database)
      const location = database.location
      const first = startNode([CHILD, 'start', location, receiver.url], env)
      const executionId = (await first.waitFor(/^READY (\S+)$/m, 'the execution to start'))[1]!
      await until(() => receiver.requests.length >= 3, 'three failed attempts', 30_000)
      await stop(first, 'SIGKILL')
      const beforeRestart = receiver.requests.length

      const second = startNode([CHILD, 'resume', location], env)
      await second.waitFor(/^UP/m, 'the second process to start')
      await until(() => receiver.accepted().some((e) => e.type === 'workflow_completed'), 'the terminal event delivered', 30_000)
      await stop(second, 'SIGKILL')
      const all = await readEvents(location, executionId)

      expect(beforeRestart).toBe(3)
      expect(receiver.requests.slice(0, 3).every((r) => r.event.seq === 1 && r.status === 500)).toBe(true)
      const accepted = receiver.accepted()
      // At least once and in order: never a step back, and, duplicates dropped, exactly the event log.
      for (let i = 1; i < accepted.length; i++) expect(accepted[i]!.seq).toBeGreaterThanOrEqual(accepted[i - 1]!.seq)
      const unique = accepted.filter((e, i) => i === 0 || e.seq !== accepted[i - 1]!.seq)
      expect(unique).toEqual(all)
      expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1))
      expect(all.at(-1)!.type).toBe('workflow_completed')
      for (const delivery of receiver.requests) expect(hasValidSignature(delivery, SECRET)).toBe(true)
    })
  })
}

/** The execution's events, read with the store alone (no engine: it would start a delivery worker of its own). */
async function readEvents(location: string, executionId: string) {
  const store = createSqlStore(await openDatabase(location))
  try {
    return await store.events.list(executionId)
  } finally {
    await store.close()
  }
}
