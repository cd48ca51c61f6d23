import type { CommitBatch, NewExecution, TaskRow, TimerRow } from '../db/store.js'
import type { ExecutionEvent } from '../model/events.js'
import type { Execution, ItemCounts, StateRecord } from '../model/resources.js'
import type { SignalDoc } from '../model/signals.js'

/** What the journal (journal.ts) holds: each live execution's in-memory rows, and what the next commit will write. */

export type View = {
  epoch: number
  lastSeq: number
  execution: Execution
  tasks: Map<string, TaskRow>
  dirtyTasks: Set<string>
  /** Timer keys per task, cleared when the task settles. */
  taskTimers: Map<string, Set<string>>
  /** The state saved last while live (null until one is saved). */
  state: StateRecord | null
  /** Its signals (signals.ts), written whole by the next commit when `signalsDirty`. */
  signals: SignalDoc
  signalsDirty: boolean
  /** Called when a commit of this execution is refused (another owner). */
  onStale: () => void
}

type Waiter = { resolve: () => void; reject: (error: Error) => void }

export type Pending = {
  creates: NewExecution[]
  events: ExecutionEvent[]
  timersSet: Map<string, TimerRow>
  timersCleared: Map<string, { execution_id: string; key: string }>
  states: CommitBatch['states']
  items: NonNullable<CommitBatch['items']>
  itemCounts: Map<string, { execution_id: string; task_id: string; items: ItemCounts }>
  views: Set<View>
  waiters: Waiter[]
}

export const emptyPending = (): Pending => ({
  creates: [],
  events: [],
  timersSet: new Map(),
  timersCleared: new Map(),
  states: [],
  items: [],
  itemCounts: new Map(),
  views: new Set(),
  waiters: [],
})
