import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { ObservedEvent } from '../actors/observed.js'
import type { Supervisor } from '../actors/supervisor.js'
import type { Journal } from '../actors/journal.js'
import { planOf } from '../machines/plan.js'
import { EXECUTION_ENDED_AS, TASK_ENDED_AS } from '../model/events.js'

/** Seconds: from a millisecond task to a five-minute one (task durations, queue times). */
const TASK_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]
/** Seconds: a commit takes a millisecond or a few; a slow database shows in the upper buckets. */
const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

export type Metrics = {
  /** The exposition's content type (prom-client's). */
  readonly contentType: string
  /** The Prometheus text exposition of this node. */
  text(): Promise<string>
  /** An SSE client connected / went away. */
  sseOpened(): void
  sseClosed(): void
  stop(): void
}

/**
 * Prometheus metrics of this node (API.md "Observability and UI"), fed by the events the node commits. Labels are the
 * workflow's name, the component and the status: never an execution or task id, so series stay few.
 */
export function createMetrics(deps: { supervisor: Supervisor; journal: Journal }): Metrics {
  const registry = new Registry()
  const registers = [registry]
  const started = new Counter({
    name: 'harmonia_executions_started_total',
    help: 'Executions started on this node.',
    labelNames: ['workflow'],
    registers,
  })
  const finished = new Counter({
    name: 'harmonia_executions_finished_total',
    help: 'Executions that ended on this node, by final status.',
    labelNames: ['workflow', 'status'],
    registers,
  })
  const tasksFinished = new Counter({
    name: 'harmonia_tasks_finished_total',
    help: 'Tasks that ended (completed, failed, canceled, skipped), by component.',
    labelNames: ['component', 'status'],
    registers,
  })
  const retries = new Counter({
    name: 'harmonia_task_retries_total',
    help: 'Attempts that failed and are retried.',
    labelNames: ['component'],
    registers,
  })
  const duration = new Histogram({
    name: 'harmonia_task_duration_seconds',
    help: "A task's time from its first attempt's start to its end, retries included.",
    labelNames: ['component'],
    buckets: TASK_BUCKETS,
    registers,
  })
  const queue = new Histogram({
    name: 'harmonia_task_queue_seconds',
    help: 'A task from ready (its dependencies done) to its first attempt started.',
    buckets: TASK_BUCKETS,
    registers,
  })
  const commits = new Histogram({
    name: 'harmonia_commit_seconds',
    help: 'One group commit of the journal.',
    buckets: COMMIT_BUCKETS,
    registers,
  })
  new Gauge({
    name: 'harmonia_executions_running',
    help: 'Executions live on this node.',
    registers,
    collect() {
      this.set(deps.supervisor.liveCount)
    },
  })
  new Gauge({
    name: 'harmonia_tasks_running',
    help: 'Task attempts running on this node.',
    registers,
    collect() {
      this.set(deps.supervisor.runningTasks())
    },
  })
  const sse = new Gauge({ name: 'harmonia_sse_clients', help: 'Open SSE streams.', registers })

  // prom-client hashes a label set on every call: each series' child is looked up once per metric, by label values.
  const children = new Map<object, Map<string, unknown>>()
  function child<T>(metric: object, values: string[], make: () => T): T {
    let byValues = children.get(metric)
    if (!byValues) children.set(metric, (byValues = new Map()))
    const key = values.join('\u0000')
    let found = byValues.get(key) as T | undefined
    if (!found) byValues.set(key, (found = make()))
    return found
  }
  const count = (metric: Counter<string>, ...values: string[]) => child(metric, values, () => metric.labels(...values)).inc()

  function observe({ event, execution, definition }: ObservedEvent): void {
    const workflow = definition.name
    const end = EXECUTION_ENDED_AS[event.type]
    if (event.type === 'workflow_started') return count(started, workflow)
    if (end) return count(finished, workflow, end)
    if (event.task_id === undefined) return
    // A fan-out element's events (data.index) are not tasks: only its retries count, as calls of the component.
    const element = event.data.index !== undefined
    const plan = planOf(definition)
    const i = plan.index.get(event.task_id)
    const task = i === undefined ? undefined : definition.tasks[i]
    if (!task) return
    const component = task.component
    if (event.type === 'task_retrying') return count(retries, component)
    if (element) return
    const row = execution.task_executions[event.task_id]
    const status = TASK_ENDED_AS[event.type]
    if (status) {
      count(tasksFinished, component, status)
      if (row?.start_time && status !== 'skipped')
        child(duration, [component], () => duration.labels(component)).observe(seconds(row.start_time, event.timestamp))
      return
    }
    if (event.type === 'task_started' && Number(event.data.attempt) === 1) {
      // Ready when its last dependency ended (a root: when the execution started).
      let ready = execution.start_time
      for (const dependency of task.depends_on ?? []) {
        const ended = execution.task_executions[dependency]?.end_time
        if (ended && (ready === null || ended > ready)) ready = ended
      }
      if (ready) queue.observe(Math.max(0, seconds(ready, event.timestamp)))
    }
  }

  const unobserve = deps.supervisor.observe(observe)
  const untime = deps.journal.onCommit((s) => commits.observe(s))
  return {
    contentType: registry.contentType,
    text: () => Registry.merge([processRegistry(), registry]).metrics(),
    sseOpened: () => sse.inc(),
    sseClosed: () => sse.dec(),
    stop() {
      unobserve()
      untime()
    },
  }
}

/**
 * The default process metrics (CPU, memory, event loop lag, GC), one set per process however many engines it runs:
 * each set keeps an event-loop monitor timer running. Made at the first scrape.
 */
let processMetrics: Registry | undefined
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry()
    collectDefaultMetrics({ register: processMetrics })
  }
  return processMetrics
}

const seconds = (from: string, to: string): number => (Date.parse(to) - Date.parse(from)) / 1000
