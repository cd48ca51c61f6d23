import { SimulatedClock } from 'xstate'
import { createHarmonia, type Harmonia, type HarmoniaOptions } from '../../src/harmonia.js'
import { createMemoryStore } from '../../src/db/memory.store.js'
import type { ExecutionEvent } from '../../src/model/events.js'

export { deferred, until } from './async.js'

export type TestEngine = { harmonia: Harmonia; clock: SimulatedClock; events: Map<string, ExecutionEvent[]> }

/** An engine on a simulated clock with a fixed random source. */
export async function testEngine(options: HarmoniaOptions = {}): Promise<TestEngine> {
  const clock = new SimulatedClock()
  clock.set(Date.parse('2026-01-01T00:00:00Z'))
  const harmonia = await createHarmonia({ clock, random: () => 0.5, store: createMemoryStore(), ...options })
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
