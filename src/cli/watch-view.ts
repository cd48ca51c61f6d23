import type { ExecutionEvent } from '../model/events.js'
import type { Execution } from '../model/resources.js'
import type { ExecutionStatus, TaskStatus } from '../model/status.js'
import { clockTime, formatDuration, formatTable, text, truncate, type Style } from './format.js'

/** One task's row of the live view. */
export type TaskView = {
  id: string
  status: TaskStatus
  attempts: number
  start: number | null
  end: number | null
  note: string
  /** A fan-out's elements that ended, from their events (`data.index`). */
  elements?: { completed: number; failed: number }
}

/** What the live view shows: the execution's status and its tasks, advanced by events. */
export type Board = {
  executionId: string
  status: ExecutionStatus
  start: number | null
  end: number | null
  tasks: Map<string, TaskView>
}

const time = (iso: string | null | undefined): number | null => (iso ? Date.parse(iso) : null)

const errorText = (value: unknown): string =>
  value !== null && typeof value === 'object' && 'message' in value ? text(value.message) : text(value)

/** The board of an execution as the server reports it (task order: the server's, which is definition order). */
export function boardOf(execution: Execution): Board {
  const tasks = new Map<string, TaskView>()
  for (const t of Object.values(execution.task_executions ?? {})) {
    tasks.set(t.task_id, {
      id: t.task_id,
      status: t.status,
      attempts: t.attempts,
      start: time(t.start_time),
      end: time(t.end_time),
      note: t.error ? errorText(t.error) : '',
    })
  }
  return {
    executionId: execution.execution_id,
    status: execution.status,
    start: time(execution.start_time),
    end: time(execution.end_time),
    tasks,
  }
}

const attemptOf = (event: ExecutionEvent): number | undefined => (typeof event.data.attempt === 'number' ? event.data.attempt : undefined)

/** Advances the board by one event. Events are replayed from the start, so the board ends where the server is. */
export function applyEvent(board: Board, event: ExecutionEvent): void {
  const at = Date.parse(event.timestamp)
  let task: TaskView | undefined
  if (event.task_id !== undefined) {
    task = board.tasks.get(event.task_id)
    if (!task) {
      task = { id: event.task_id, status: 'pending', attempts: 0, start: null, end: null, note: '' }
      board.tasks.set(event.task_id, task)
    }
  }
  // An element of a fan-out (`data.index`): the task's progress, not its status.
  if (task && typeof event.data.index === 'number') {
    const counts = (task.elements ??= { completed: 0, failed: 0 })
    if (event.type === 'task_completed') counts.completed++
    if (event.type === 'task_failed') counts.failed++
    task.note = `elements: ${counts.completed} completed${counts.failed > 0 ? `, ${counts.failed} failed` : ''}`
    return
  }
  switch (event.type) {
    case 'workflow_started':
      board.status = 'running'
      board.start ??= at
      break
    case 'workflow_paused':
      board.status = 'paused'
      break
    case 'workflow_resumed':
      board.status = 'running'
      break
    case 'workflow_completed':
    case 'workflow_failed':
    case 'workflow_canceled':
      board.status = event.type === 'workflow_completed' ? 'completed' : event.type === 'workflow_failed' ? 'failed' : 'canceled'
      board.end = at
      break
    case 'task_started':
      if (task) {
        task.status = 'running'
        task.attempts = attemptOf(event) ?? task.attempts + 1
        // A restart after a retry keeps the first start: the duration covers every attempt.
        task.start ??= at
        task.end = null
      }
      break
    case 'task_retrying':
      if (task) {
        task.status = 'retrying'
        const delay = typeof event.data.delay_ms === 'number' ? ` (retry in ${formatDuration(event.data.delay_ms)})` : ''
        task.note = `${errorText(event.data.error)}${delay}`
      }
      break
    case 'task_completed':
      if (task) {
        task.status = 'completed'
        task.attempts = attemptOf(event) ?? task.attempts
        task.end = at
        task.note = ''
      }
      break
    case 'task_failed':
      if (task) {
        task.status = 'failed'
        task.end = at
        task.note = errorText(event.data.error)
      }
      break
    case 'task_skipped':
      if (task) {
        task.status = 'skipped'
        task.note = text(event.data.reason)
      }
      break
    case 'task_canceled':
      if (task) {
        task.status = 'canceled'
        if (task.start !== null) task.end = at
        task.note = text(event.data.reason)
      }
      break
    case 'checkpoint_created':
    case 'state_saved':
    case 'signal_received':
      break
  }
}

const durationOf = (start: number | null, end: number | null, now: number) => (start === null ? null : (end ?? now) - start)

/** The view's lines: a heading, then a table of the tasks. `width` bounds each line (for in-place redraws). */
export function renderBoard(board: Board, style: Style, now: number, width = Infinity): string[] {
  const heading = `execution ${board.executionId}  ${style.status(board.status)}  ${formatDuration(durationOf(board.start, board.end, now))}`
  const tasks = [...board.tasks.values()]
  const headers = ['TASK', 'STATUS', 'ATTEMPTS', 'DURATION', 'NOTE']
  const fixed = tasks.map((t) => [t.id, t.status, String(t.attempts), formatDuration(durationOf(t.start, t.end, now))])
  // Only the note is cut to the width: the columns before it keep their alignment.
  const before = 2 + headers.slice(0, 4).reduce((sum, h, i) => sum + 2 + Math.max(h.length, ...fixed.map((r) => r[i]!.length)), 0)
  const rows = tasks.map((t, i) => {
    const [id, status, attempts, duration] = fixed[i]!
    return [id!, { text: status!, styled: style.status(status!) }, attempts!, duration!, truncate(t.note, width - before)]
  })
  return [heading, ...formatTable(headers, rows, style, '  ')]
}

/** One line per event for piped output: `HH:MM:SS.mmm  #seq  type  task  detail`. */
export function eventLine(event: ExecutionEvent, style: Style): string {
  const detail = (() => {
    const d = event.data
    switch (event.type) {
      case 'task_started':
        return `attempt ${text(d.attempt, '?')}`
      case 'task_retrying':
        return `${errorText(d.error)}; attempt ${text(d.attempt, '?')} failed, retry in ${formatDuration(Number(d.delay_ms))}`
      case 'task_failed':
      case 'workflow_failed':
        return errorText(d.error)
      case 'task_skipped':
      case 'task_canceled':
      case 'workflow_canceled':
        return text(d.reason)
      case 'task_completed':
        return `attempt ${text(d.attempt, '?')}`
      default:
        return ''
    }
  })()
  const element = typeof event.data.index === 'number' ? `element ${event.data.index}` : ''
  const status = event.type.replace(/^(task|workflow)_/, '')
  const shown = style.status(status === 'started' || status === 'resumed' ? 'running' : status, event.type.padEnd(18))
  return [clockTime(event.timestamp), `#${event.seq}`.padEnd(5), shown, event.task_id ?? '', [element, detail].filter(Boolean).join(', ')]
    .filter((part, i) => i < 3 || part !== '')
    .join('  ')
    .trimEnd()
}
