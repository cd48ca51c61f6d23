import type { ScheduleTickRecord, Store } from './store.js'

/** The in-memory store's schedule ticks (memory.store.ts): a map keyed like the table's primary key. */
export function createMemorySchedules(): Store['schedules'] {
  const ticks = new Map<string, ScheduleTickRecord>()
  const keyOf = (workflowId: string, schedule: string, tick: string) => JSON.stringify([workflowId, schedule, Date.parse(tick)])
  return {
    async claimTick(record) {
      const key = keyOf(record.workflow_id, record.schedule, record.tick)
      if (ticks.has(key)) return false
      ticks.set(key, { ...record })
      return true
    },
    async markStarted(workflowId, schedule, tick) {
      const found = ticks.get(keyOf(workflowId, schedule, tick))
      if (found) found.started = true
    },
    async lastTicks(workflowId) {
      const newest = new Map<string, { workflow_id: string; schedule: string; tick: string }>()
      for (const t of ticks.values()) {
        if (workflowId !== undefined && t.workflow_id !== workflowId) continue
        const key = JSON.stringify([t.workflow_id, t.schedule])
        const seen = newest.get(key)
        if (!seen || Date.parse(seen.tick) < Date.parse(t.tick))
          newest.set(key, { workflow_id: t.workflow_id, schedule: t.schedule, tick: t.tick })
      }
      return [...newest.values()]
    },
    async unstarted() {
      return [...ticks.values()]
        .filter((t) => !t.started)
        .sort((a, b) => Date.parse(a.tick) - Date.parse(b.tick))
        .map((t) => ({ ...t }))
    },
    async deleteWorkflow(workflowId) {
      for (const [key, t] of ticks) if (t.workflow_id === workflowId) ticks.delete(key)
    },
  }
}
