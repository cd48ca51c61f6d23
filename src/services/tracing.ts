import {
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
} from '@opentelemetry/api'
import type { ObservedEvent } from '../actors/observed.js'
import type { Supervisor } from '../actors/supervisor.js'
import { planOf } from '../machines/plan.js'
import { EXECUTION_ENDED_AS, TASK_ENDED_AS, type ErrorInfo, type EventType } from '../model/events.js'
import { attemptSpanId, executionSpanId, parseTraceparent, TRACEPARENT_KEY, traceIdOf } from '../model/trace-context.js'
import { VERSION } from '../version.js'
import { executionIds } from './span-ids.js'

/** How an attempt ends: its task's end, or a failure that is retried (a skipped task had no attempt). */
const attemptEnd = (type: EventType): string | undefined =>
  type === 'task_retrying' ? 'retrying' : type === 'task_skipped' ? undefined : TASK_ENDED_AS[type]

/** Whether a tracer provider is installed (else the API's no-op one answers and tracing costs nothing). */
export function tracingInstalled(): boolean {
  const provider = trace.getTracerProvider()
  const actual = provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider
  return actual.constructor.name !== 'NoopTracerProvider'
}

/**
 * OpenTelemetry spans (API.md "Observability and UI"): one per execution and one per task attempt, each made once its
 * end is committed, with its real start and end times. Their ids derive from the execution (span-ids.ts), and a span
 * is only made by the node that commits its end, so a restart or a takeover does not make a second one for work
 * already done. An attempt's span is the child of its execution's; the execution's, of the `traceparent` it was
 * started with. Nothing is observed when no tracer provider is installed.
 */
export function createTracing(deps: { supervisor: Supervisor }): { stop(): void } {
  if (!tracingInstalled()) return { stop() {} }
  const tracer = trace.getTracer('harmonia', VERSION)
  /** When each running attempt started (ms), per execution and task: made at task_started, read at its end. */
  const starts = new Map<string, Map<string, number>>()

  const stored = (metadata: Record<string, unknown>): string | undefined =>
    typeof metadata[TRACEPARENT_KEY] === 'string' ? metadata[TRACEPARENT_KEY] : undefined

  function emit(
    name: string,
    ids: { traceId?: string; spanId: string },
    parent: Context,
    times: [number, number],
    attributes: Attributes,
    error?: ErrorInfo | null,
  ) {
    const span = executionIds.with(ids, () => tracer.startSpan(name, { kind: SpanKind.INTERNAL, startTime: times[0], attributes }, parent))
    if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: error.message })
    else if (attributes['harmonia.status'] === 'completed') span.setStatus({ code: SpanStatusCode.OK })
    span.end(Math.max(times[0], times[1]))
  }

  function observe({ event, execution, definition }: ObservedEvent): void {
    const executionId = event.execution_id
    const traceparent = stored(execution.metadata)
    const traceId = traceIdOf(executionId, traceparent)
    const at = Date.parse(event.timestamp)
    const base = {
      'harmonia.workflow': definition.name,
      'harmonia.workflow_id': execution.workflow_id,
      'harmonia.execution_id': executionId,
    }
    const status = EXECUTION_ENDED_AS[event.type]
    if (status) {
      starts.delete(executionId)
      const remote = parseTraceparent(traceparent)
      const parent = remote
        ? trace.setSpanContext(ROOT_CONTEXT, { traceId: remote.traceId, spanId: remote.spanId, traceFlags: remote.flags, isRemote: true })
        : ROOT_CONTEXT
      const begun = execution.start_time ? Date.parse(execution.start_time) : at
      const error = status === 'failed' ? execution.error : null
      emit(
        `execution ${definition.name}`,
        { traceId, spanId: executionSpanId(executionId) },
        parent,
        [begun, at],
        { ...base, 'harmonia.status': status },
        error,
      )
      return
    }
    // A fan-out element's events (data.index) belong to its task's one attempt.
    if (event.task_id === undefined || event.data.index !== undefined) return
    const taskId = event.task_id
    if (event.type === 'task_started') {
      let running = starts.get(executionId)
      if (!running) starts.set(executionId, (running = new Map()))
      running.set(taskId, at)
      return
    }
    const outcome = attemptEnd(event.type)
    if (!outcome) return
    const row = execution.task_executions[taskId]
    const attempt = Number(event.data.attempt ?? row?.attempts ?? 1)
    const begun = starts.get(executionId)?.get(taskId) ?? (row?.start_time && attempt === 1 ? Date.parse(row.start_time) : at)
    starts.get(executionId)?.delete(taskId)
    const i = planOf(definition).index.get(taskId)
    const task = i === undefined ? undefined : definition.tasks[i]
    const parent = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: executionSpanId(executionId), traceFlags: TraceFlags.SAMPLED })
    const attributes = {
      ...base,
      'harmonia.task_id': taskId,
      'harmonia.component': task?.component ?? '',
      'harmonia.action': task?.action ?? '',
      'harmonia.attempt': attempt,
      'harmonia.status': outcome,
    }
    const error = outcome === 'completed' ? null : ((event.data.error as ErrorInfo | undefined) ?? row?.error ?? null)
    emit(`task ${taskId}`, { spanId: attemptSpanId(executionId, taskId, attempt) }, parent, [begun, at], attributes, error)
  }

  const unobserve = deps.supervisor.observe(observe)
  return { stop: unobserve }
}
