import { applyFact } from '../actors/projection.js'
import type { ExecutionEvent } from '../model/events.js'
import type { Execution } from '../model/resources.js'
import { isTerminalExecutionStatus } from '../model/status.js'
import type { Store, WorkflowRecord } from './store.js'

/** Deep copy of JSON data, so callers never hold the store's own objects. */
const copy = <T>(value: T): T => structuredClone(value)

/** An in-memory Store: the engine's storage until the database lands, and a fast store for embedding tests. */
export function createMemoryStore(): Store {
  const workflows = new Map<string, WorkflowRecord[]>()
  const executions = new Map<string, Execution>()
  const events = new Map<string, ExecutionEvent[]>()

  return {
    workflows: {
      async insert(record) {
        const versions = workflows.get(record.workflowId) ?? []
        versions.push(record)
        workflows.set(record.workflowId, versions)
      },
      async latest(workflowId) {
        return workflows.get(workflowId)?.at(-1)
      },
      async version(workflowId, version) {
        return workflows.get(workflowId)?.find((r) => r.version === version)
      },
      async list({ limit, offset, filter }) {
        const needle = filter?.toLowerCase()
        const all = [...workflows.values()]
          .map((versions) => versions.at(-1)!)
          .filter((r) => needle === undefined || r.definition.name.toLowerCase().includes(needle))
        return { items: all.slice(offset, offset + limit), total: all.length }
      },
      async delete(workflowId) {
        return workflows.delete(workflowId)
      },
    },
    executions: {
      async insert(execution) {
        executions.set(execution.execution_id, copy(execution))
        events.set(execution.execution_id, [])
      },
      async get(executionId) {
        const found = executions.get(executionId)
        return found && copy(found)
      },
      async list({ limit, offset, status, workflow_id, filter }) {
        const needle = filter?.toLowerCase()
        const all = [...executions.values()].filter(
          (e) =>
            (status === undefined || e.status === status) &&
            (workflow_id === undefined || e.workflow_id === workflow_id) &&
            (needle === undefined || e.execution_id.includes(needle) || JSON.stringify(e.metadata).toLowerCase().includes(needle)),
        )
        all.reverse() // newest first
        return { items: all.slice(offset, offset + limit).map((e) => copy({ ...e, task_executions: {} })), total: all.length }
      },
      async countActive(workflowId) {
        let n = 0
        for (const e of executions.values()) if (e.workflow_id === workflowId && !isTerminalExecutionStatus(e.status)) n++
        return n
      },
    },
    events: {
      async list(executionId, after = 0) {
        const log = events.get(executionId) ?? []
        // seq n sits at index n − 1: gap-free by construction.
        return log.slice(after)
      },
    },
    async commit(entries) {
      for (const entry of entries) {
        const execution = executions.get(entry.executionId)
        if (!execution) continue
        const log = events.get(entry.executionId)!
        for (const { fact, event, at } of entry.facts) {
          // Facts are fresh objects and outputs are the engine's own copies: no need to copy again.
          applyFact(execution, fact, at)
          if (event) log.push(event)
        }
      }
    },
    async close() {},
  }
}
