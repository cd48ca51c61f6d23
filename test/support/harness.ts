import { afterAll, afterEach, beforeAll, beforeEach, describe } from 'vitest'
import { SimulatedClock } from 'xstate'
import { createMemoryStore } from '../../src/db/memory.store.js'
import { createSqlStore } from '../../src/db/sql.store.js'
import type { Store } from '../../src/db/store.js'
import { createHarmonia, type Harmonia, type HarmoniaOptions } from '../../src/harmonia.js'
import type { ExecutionEvent } from '../../src/model/events.js'
import { drivers } from './db.js'

export { deferred, until } from './async.js'

/**
 * Where the engine suites run: the in-memory store, PGlite and the Postgres server at DATABASE_URL (skipped, and named
 * so, without it). A PGlite or Postgres database is shared by the tests of one block; engines made by `testEngine`
 * do not recover executions left by other tests.
 */
export type StoreKind = 'memory' | 'pglite' | 'postgres'

let current: { kind: StoreKind; store: () => Store } | null = null

/** The store kind of the running block ('memory' outside describeEachStore). */
export const currentStoreKind = (): StoreKind => current?.kind ?? 'memory'

/** A store whose close() leaves the shared database open for the next test. */
function shared(store: Store): Store {
  return { ...store, close: async () => {} }
}

/** Runs `body` once per store kind, each block named `<kind>: <title>`. */
export function describeEachStore(title: string, body: () => void): void {
  describe(`memory: ${title}`, () => {
    beforeEach(() => {
      current = { kind: 'memory', store: createMemoryStore }
    })
    afterEach(() => {
      current = null
    })
    body()
  })
  for (const driver of drivers) {
    describe.skipIf(driver.skip)(`${driver.title}: ${title}`, () => {
      let handle: Awaited<ReturnType<typeof driver.open>> | undefined
      let store: Store | undefined
      beforeAll(async () => {
        handle = await driver.open()
        store = createSqlStore(handle)
      })
      afterAll(async () => {
        await handle?.close()
      })
      beforeEach(() => {
        current = { kind: driver.name, store: () => shared(store!) }
      })
      afterEach(() => {
        current = null
      })
      body()
    })
  }
}

/** The store for the running test (a fresh memory store outside describeEachStore). */
export const testStore = (): Store => (current ? current.store() : createMemoryStore())

export type TestEngine = { harmonia: Harmonia; clock: SimulatedClock; events: Map<string, ExecutionEvent[]> }

/** An engine on a simulated clock with a fixed random source, on the block's store. */
export async function testEngine(options: HarmoniaOptions = {}): Promise<TestEngine> {
  const clock = new SimulatedClock()
  clock.set(Date.parse('2026-01-01T00:00:00Z'))
  const harmonia = await createHarmonia({ clock, random: () => 0.5, store: testStore(), recover: false, ...options })
  return { harmonia, clock, events: new Map() }
}

/** Collects an execution's events as they are published. */
export async function record(harmonia: Harmonia, executionId: string): Promise<ExecutionEvent[]> {
  const events: ExecutionEvent[] = []
  await harmonia.subscribe(executionId, (e) => events.push(e))
  return events
}

/** `type` or `type:task_id` for each event: the ordered stream in a compact form. */
export const shape = (events: ExecutionEvent[]) => events.map((e) => (e.task_id ? `${e.type}:${e.task_id}` : e.type))
