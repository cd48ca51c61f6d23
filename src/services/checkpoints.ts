import type { CheckpointRecord } from '../db/store.js'
import { NotFoundError, ValidationError } from '../errors.js'
import { assertStorable, isPlainObject } from '../json.js'
import { uuidv7 } from '../model/ids.js'
import { pageRequest, toPage } from '../model/paging.js'
import type { CarriedTask, Checkpoint, Execution, ListQuery, Page, StateRecord } from '../model/resources.js'
import { iso, requireId, type ServiceContext } from './context.js'
import type { LiveCopy } from '../actors/supervisor.js'
import { isTerminalExecutionStatus } from '../model/status.js'
import type { ExecutionService } from './executions.js'

function toCheckpoint({ outputs: _, ...checkpoint }: CheckpointRecord): Checkpoint {
  return checkpoint
}

/** Checkpoints (consistent copies of an execution, restorable into a new one) and an execution's saved state. */
export function createCheckpointService(ctx: ServiceContext, executions: ExecutionService) {
  const { store, supervisor, cluster } = ctx
  cluster?.handle('checkpoint', (executionId, args: { checkpointId: string }) => supervisor.checkpoint(executionId, args.checkpointId))
  cluster?.handle('state', (executionId, args: { state: Record<string, unknown> }) => supervisor.saveState(executionId, args.state))

  /** Whether the execution is held by another node (or none) and still running: its live parts are asked there. */
  const elsewhere = (execution: Execution) =>
    cluster !== undefined && !supervisor.isLive(execution.execution_id) && !isTerminalExecutionStatus(execution.status)

  async function checkpointRecord(checkpointId: string): Promise<CheckpointRecord> {
    requireId('checkpoint', checkpointId)
    const record = await store.checkpoints.get(checkpointId)
    if (!record) throw new NotFoundError('checkpoint', checkpointId)
    return record
  }

  return {
    /** A consistent copy of the execution's task results and state (API.md Checkpoint). */
    async createCheckpoint(executionId: string): Promise<Checkpoint> {
      const execution = await executions.get(executionId)
      const checkpointId = uuidv7()
      // A live execution is copied at one instant by its supervisor (announced by `checkpoint_created`); a finished
      // one is read from the store.
      const live = elsewhere(execution)
        ? ((await cluster!.run(executionId, 'checkpoint', { checkpointId })) as LiveCopy | null)
        : await supervisor.checkpoint(executionId, checkpointId)
      const tasks = live?.tasks ?? Object.values(execution.task_executions)
      const state = live?.state ?? (await store.state.get(executionId))?.state ?? {}
      const outputs: CheckpointRecord['outputs'] = {}
      for (const t of tasks) if (t.status === 'completed') outputs[t.task_id] = { output: structuredClone(t.output), attempts: t.attempts }
      const record: CheckpointRecord = {
        checkpoint_id: checkpointId,
        execution_id: executionId,
        created_at: iso(ctx.now()),
        workflow_status: live?.status ?? execution.status,
        task_statuses: Object.fromEntries(tasks.map((t) => [t.task_id, t.status])),
        completed_tasks: Object.keys(outputs),
        state_data: state,
        outputs,
      }
      await store.checkpoints.insert(record)
      return toCheckpoint(record)
    },

    async getCheckpoint(checkpointId: string): Promise<Checkpoint> {
      return toCheckpoint(await checkpointRecord(checkpointId))
    },

    async listCheckpoints(query: ListQuery & { execution_id?: string } = {}): Promise<Page<Checkpoint>> {
      const request = pageRequest(query)
      const result = await store.checkpoints.list({ ...request, ...(query.execution_id ? { execution_id: query.execution_id } : {}) })
      return toPage(result, request, (c) => c)
    },

    /** A new execution that continues from the checkpoint: completed tasks keep their outputs, the rest run. */
    async restoreFromCheckpoint(checkpointId: string): Promise<Execution> {
      const checkpoint = await checkpointRecord(checkpointId)
      const source = await executions.get(checkpoint.execution_id)
      const carried: Record<string, CarriedTask> = {}
      for (const [id, kept] of Object.entries(checkpoint.outputs))
        carried[id] = { status: 'completed', output: kept.output, attempts: kept.attempts }
      return executions.continueFrom(source, carried, { restored_from: checkpointId, metadata: source.metadata }, checkpoint.state_data)
    },

    /** Saves the execution's state: visible to its expressions as `state`, kept in checkpoints. */
    async saveState(executionId: string, state: Record<string, unknown>): Promise<StateRecord> {
      const execution = await executions.get(executionId)
      if (!isPlainObject(state)) throw new ValidationError([{ path: 'state', message: 'must be a JSON object' }])
      assertStorable(state, 'state')
      const copy = structuredClone(state)
      const live = elsewhere(execution)
        ? ((await cluster!.run(executionId, 'state', { state: copy })) as StateRecord | null)
        : await supervisor.saveState(executionId, copy)
      if (live) return live
      const record = { execution_id: executionId, state: copy, updated_at: iso(ctx.now()) }
      await store.state.put(record)
      return record
    },

    async loadState(executionId: string): Promise<StateRecord> {
      const execution = await executions.get(executionId)
      const stored = await store.state.get(executionId)
      return stored ?? { execution_id: executionId, state: {}, updated_at: execution.start_time ?? iso(ctx.now()) }
    },
  }
}
export type CheckpointsApi = ReturnType<typeof createCheckpointService>
