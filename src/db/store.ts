import type { Emitted } from '../machines/execution.machine.js'
import type { WorkflowDefinition } from '../model/definition.js'
import type { ExecutionEvent } from '../model/events.js'
import type { Execution, ExecutionListQuery, ListQuery } from '../model/resources.js'

/**
 * The storage port of the engine. The in-memory store implements it now; the drizzle stores (PGlite, Postgres)
 * implement the same port, so nothing above `src/db` changes with the driver.
 */

export type WorkflowRecord = {
  workflowId: string
  version: number
  definition: WorkflowDefinition
  createdAt: string
  updatedAt: string
}

/** Everything one execution produced in one tick: committed together, then published. */
export type JournalEntry = { executionId: string; facts: Array<{ fact: Emitted; event: ExecutionEvent | null; at: string }> }

export type Store = {
  workflows: {
    insert(record: WorkflowRecord): Promise<void>
    latest(workflowId: string): Promise<WorkflowRecord | undefined>
    version(workflowId: string, version: number): Promise<WorkflowRecord | undefined>
    list(query: Required<Pick<ListQuery, 'limit' | 'offset'>> & { filter?: string }): Promise<{ items: WorkflowRecord[]; total: number }>
    delete(workflowId: string): Promise<boolean>
  }
  executions: {
    insert(execution: Execution): Promise<void>
    get(executionId: string): Promise<Execution | undefined>
    list(
      query: Required<Pick<ExecutionListQuery, 'limit' | 'offset'>> & Omit<ExecutionListQuery, 'limit' | 'offset'>,
    ): Promise<{ items: Execution[]; total: number }>
    countActive(workflowId: string): Promise<number>
  }
  events: {
    list(executionId: string, after?: number): Promise<ExecutionEvent[]>
  }
  /** Applies the facts of one tick to the rows and appends their events, atomically. */
  commit(entries: JournalEntry[]): Promise<void>
  close(): Promise<void>
}
