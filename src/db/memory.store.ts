import { StaleWriteError } from '../errors.js'
import type { ExecutionEvent } from '../model/events.js'
import type { AuditRecord } from '../model/audit.js'
import type { RemoteComponentRecord } from '../model/components.js'
import type { SignalDoc } from '../model/signals.js'
import type { Execution, StateRecord } from '../model/resources.js'
import { setOwn } from '../json.js'
import { isTerminalExecutionStatus } from '../model/status.js'
import { createMemorySchedules } from './memory-schedules.js'
import { createMemorySubscriptions } from './memory.subscriptions.js'
import type { CheckpointRecord, ItemRow, RecoveryRecord, Store, TaskRow, TemplateRecord, TimerRow, WorkflowRecord } from './store.js'

/** Deep copy of JSON data, so callers never hold the store's own objects. */
const copy = <T>(value: T): T => structuredClone(value)

type Row = {
  execution: Execution
  tasks: Map<string, TaskRow>
  epoch: number
  owner: string | null
  lastSeq: number
  createdAt: number
  /** The engine-clock time it was created (NewExecution.created_at). */
  createdIso: string
}

const wire = ({ snapshot: _s, skip: _k, awaiting: _a, ...task }: TaskRow) => task

/**
 * An in-memory Store: fast, for embedding tests and benchmarks. It lives as long as the object, so "restarting" on it
 * means a new engine on the same store object.
 */
export function createMemoryStore(): Store {
  const workflows = new Map<string, WorkflowRecord[]>()
  const templates = new Map<string, TemplateRecord[]>()
  const executions = new Map<string, Row>()
  const events = new Map<string, ExecutionEvent[]>()
  const timers = new Map<string, Map<string, TimerRow>>()
  const states = new Map<string, StateRecord>()
  const signals = new Map<string, SignalDoc>()
  /** Fan-out elements by execution, then `<task>\u0000<index>`. */
  const items = new Map<string, Map<string, ItemRow>>()
  const checkpoints = new Map<string, CheckpointRecord>()
  const components = new Map<string, RemoteComponentRecord>()
  const audit: AuditRecord[] = []
  let created = 0

  const toExecution = (row: Row): Execution => {
    const task_executions: Execution['task_executions'] = {}
    for (const [id, task] of row.tasks) setOwn(task_executions, id, wire(task))
    return copy({ ...row.execution, task_executions })
  }

  const page = <T>(all: T[], limit: number, offset: number) => ({ items: all.slice(offset, offset + limit), total: all.length })

  const store: Store = {
    kind: 'memory',
    workflows: {
      async insert(record) {
        const versions = workflows.get(record.workflowId) ?? []
        versions.push(copy(record))
        workflows.set(record.workflowId, versions)
      },
      async latest(workflowId) {
        const found = workflows.get(workflowId)?.at(-1)
        return found && copy(found)
      },
      async version(workflowId, version) {
        const found = workflows.get(workflowId)?.find((r) => r.version === version)
        return found && copy(found)
      },
      async list({ limit, offset, filter }) {
        const needle = filter?.toLowerCase()
        const all = [...workflows.values()]
          .map((versions) => versions.at(-1)!)
          .filter((r) => needle === undefined || r.definition.name.toLowerCase().includes(needle))
        return page(all.map(copy), limit, offset)
      },
      async versions(workflowId, { limit, offset }) {
        const all = [...(workflows.get(workflowId) ?? [])].reverse().map((r) => ({ version: r.version, created_at: r.updatedAt }))
        return page(all, limit, offset)
      },
      async delete(workflowId) {
        return workflows.delete(workflowId)
      },
    },
    schedules: createMemorySchedules(),
    templates: {
      async insert(record) {
        const versions = templates.get(record.template_id) ?? []
        versions.push(copy(record))
        templates.set(record.template_id, versions)
      },
      async get(templateId, version) {
        const versions = templates.get(templateId)
        const found = version === undefined ? versions?.at(-1) : versions?.find((t) => t.version === version)
        return found && copy(found)
      },
      async delete(templateId) {
        return templates.delete(templateId)
      },
      async list({ limit, offset, filter }) {
        const needle = filter?.toLowerCase()
        const all = [...templates.values()]
          .map((versions) => versions.at(-1)!)
          .filter((t) => needle === undefined || t.name.toLowerCase().includes(needle))
        return page(all.map(copy), limit, offset)
      },
    },
    executions: {
      async create(execution, init) {
        const tasks = new Map<string, TaskRow>()
        for (const [id, task] of Object.entries(copy(execution.task_executions))) tasks.set(id, { ...task, snapshot: null, skip: null })
        executions.set(execution.execution_id, {
          execution: copy({ ...execution, task_executions: {} }),
          tasks,
          epoch: init.epoch,
          owner: init.owner,
          lastSeq: 0,
          createdAt: created++,
          createdIso: init.created_at,
        })
        events.set(execution.execution_id, [])
        timers.set(execution.execution_id, new Map(init.timers.map((t) => [t.key, copy(t)])))
        if (Object.keys(init.state).length > 0) {
          states.set(execution.execution_id, {
            execution_id: execution.execution_id,
            state: copy(init.state),
            updated_at: init.created_at,
          })
        }
      },
      async get(executionId) {
        const row = executions.get(executionId)
        return row && toExecution(row)
      },
      async list({ limit, offset, status, workflow_id, filter }) {
        const needle = filter?.toLowerCase()
        const all = [...executions.values()]
          .filter(
            ({ execution: e }) =>
              (status === undefined || e.status === status) &&
              (workflow_id === undefined || e.workflow_id === workflow_id) &&
              (needle === undefined || e.execution_id.includes(needle) || JSON.stringify(e.metadata).toLowerCase().includes(needle)),
          )
          .sort((a, b) => b.createdAt - a.createdAt)
        return page(
          all.map((r) => copy({ ...r.execution, task_executions: {} })),
          limit,
          offset,
        )
      },
      async countActive(workflowId) {
        let n = 0
        for (const { execution: e } of executions.values()) if (e.workflow_id === workflowId && !isTerminalExecutionStatus(e.status)) n++
        return n
      },
      async activeChildren(parentId) {
        const out: string[] = []
        for (const row of executions.values()) {
          if (row.execution.parent?.execution_id === parentId && !isTerminalExecutionStatus(row.execution.status))
            out.push(row.execution.execution_id)
        }
        return out
      },
      async childOf({ execution_id, task_id, index }) {
        let found: Row | undefined
        for (const row of executions.values()) {
          const p = row.execution.parent
          if (p?.execution_id === execution_id && p.task_id === task_id && p.index === index) {
            if (!found || row.createdAt >= found.createdAt) found = row
          }
        }
        return found?.execution.execution_id
      },
      async claimRecoverable(owner) {
        const out: RecoveryRecord[] = []
        for (const row of executions.values()) {
          if (isTerminalExecutionStatus(row.execution.status)) continue
          row.epoch++
          row.owner = owner
          const id = row.execution.execution_id
          const versions = workflows.get(row.execution.workflow_id) ?? []
          const definition = versions.find((v) => v.version === row.execution.workflow_version)?.definition
          if (!definition) continue
          out.push({
            execution: toExecution(row),
            epoch: row.epoch,
            last_seq: row.lastSeq,
            definition: copy(definition),
            tasks: [...row.tasks.values()].map(copy),
            timers: [...(timers.get(id)?.values() ?? [])].map(copy),
            state: copy(states.get(id)?.state ?? {}),
            signals: copy(signals.get(id) ?? {}),
          })
        }
        return out
      },
      async deleteEndedBefore(before) {
        let n = 0
        for (const [id, row] of executions) {
          const e = row.execution
          if (isTerminalExecutionStatus(e.status) && e.end_time !== null && e.end_time < before) {
            executions.delete(id)
            events.delete(id)
            timers.delete(id)
            states.delete(id)
            signals.delete(id)
            items.delete(id)
            for (const [cid, cp] of checkpoints) if (cp.execution_id === id) checkpoints.delete(cid)
            n++
          }
        }
        return n
      },
    },
    events: {
      async list(executionId, after = 0) {
        // seq n sits at index n − 1: gap-free by construction.
        return copy((events.get(executionId) ?? []).slice(after))
      },
    },
    state: {
      async get(executionId) {
        const found = states.get(executionId)
        return found && copy(found)
      },
      async put(record) {
        states.set(record.execution_id, copy(record))
      },
    },
    checkpoints: {
      async insert(record) {
        checkpoints.set(record.checkpoint_id, copy(record))
      },
      async get(checkpointId) {
        const found = checkpoints.get(checkpointId)
        return found && copy(found)
      },
      async list({ execution_id, limit, offset }) {
        const all = [...checkpoints.values()]
          .filter((c) => execution_id === undefined || c.execution_id === execution_id)
          .map(({ outputs: _, ...c }) => copy(c))
        return page(all, limit, offset)
      },
    },
    taskItems: {
      async list(executionId, taskId) {
        const rows = [...(items.get(executionId)?.entries() ?? [])].filter(([k]) => k.startsWith(`${taskId}\u0000`)).map(([, r]) => r)
        return copy(rows.sort((a, b) => a.index - b.index))
      },
    },
    signals: {
      async get(executionId) {
        const found = signals.get(executionId)
        return found && copy(found)
      },
    },
    audit: {
      async insert(records) {
        for (const record of records) audit.unshift(copy(record))
      },
      async list({ limit, offset, target_id, actor }) {
        const all = audit.filter(
          (r) => (target_id === undefined || r.target_id === target_id) && (actor === undefined || r.actor === actor),
        )
        return page(all.map(copy), limit, offset)
      },
    },
    components: {
      async list() {
        return [...components.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(copy)
      },
      async get(name) {
        const found = components.get(name)
        return found && copy(found)
      },
      async put(record) {
        const created_at = components.get(record.name)?.created_at ?? record.created_at
        components.set(record.name, copy({ ...record, created_at }))
      },
      async delete(name) {
        return components.delete(name)
      },
    },
    subscriptions: createMemorySubscriptions(() =>
      [...executions.values()].map((row) => ({
        execution_id: row.execution.execution_id,
        workflow_id: row.execution.workflow_id,
        status: row.execution.status,
        last_seq: row.lastSeq,
        created_at: row.createdIso,
      })),
    ),
    async commit(batch) {
      for (const created of batch.creates) {
        await store.executions.create(created.execution, created)
      }
      // Check every fence first: a stale part means nothing of the batch is written (as a rolled-back transaction).
      for (const { execution_id, epoch } of batch.executions) {
        const row = executions.get(execution_id)
        if (row && row.epoch !== epoch) throw new StaleWriteError('execution', execution_id, epoch)
      }
      for (const { execution_id, patch } of batch.executions) {
        const row = executions.get(execution_id)
        if (!row) continue
        const { last_seq, ...fields } = patch
        Object.assign(row.execution, copy(fields))
        row.lastSeq = last_seq
      }
      // Rows and events are the engine's own copies, made for this batch: stored as they are.
      for (const { execution_id, row } of batch.tasks) executions.get(execution_id)?.tasks.set(row.task_id, row)
      for (const event of batch.events) events.get(event.execution_id)?.push(event)
      for (const t of batch.timersSet) timers.get(t.execution_id)?.set(t.key, t)
      for (const t of batch.timersCleared) timers.get(t.execution_id)?.delete(t.key)
      for (const s of batch.states) states.set(s.execution_id, s)
      for (const s of batch.signals ?? []) signals.set(s.execution_id, copy(s.signals))
      for (const { execution_id, task_id, row } of batch.items ?? []) {
        if (!executions.has(execution_id)) continue
        let rows = items.get(execution_id)
        if (!rows) items.set(execution_id, (rows = new Map()))
        rows.set(`${task_id}\u0000${row.index}`, copy(row))
      }
      for (const { execution_id, task_id, items: counts } of batch.itemCounts ?? []) {
        const task = executions.get(execution_id)?.tasks.get(task_id)
        if (task) task.items = { ...counts }
      }
    },
    async close() {},
  }
  return store
}
