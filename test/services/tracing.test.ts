import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { trace } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { HandlerContext } from '../../src/components/handler.js'
import { createHarmonia, type Harmonia } from '../../src/harmonia.js'
import { startServer } from '../../src/http/server.js'
import { attemptSpanId, executionSpanId, traceIdOf } from '../../src/model/trace-context.js'
import { executionIds } from '../../src/services/span-ids.js'
import { closeComponentServers, startComponentServer } from '../support/component-server.js'
import { until } from '../support/async.js'

/** OpenTelemetry (issue 14): a span per execution and per attempt, parented, with ids a restart does not change. */

const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ idGenerator: executionIds, spanProcessors: [new SimpleSpanProcessor(exporter)] })
beforeAll(() => {
  trace.setGlobalTracerProvider(provider)
})
afterAll(async () => {
  await provider.shutdown()
  trace.disable()
})
afterEach(async () => {
  exporter.reset()
  await closeComponentServers()
})

const DIAMOND = [
  { id: 'a', component: 'work', action: 'step' },
  { id: 'b', component: 'work', action: 'step', depends_on: ['a'] },
  { id: 'c', component: 'work', action: 'step', depends_on: ['a'] },
  { id: 'd', component: 'last', action: 'join', depends_on: ['b', 'c'] },
]

const spans = () => exporter.getFinishedSpans()
const taskSpans = () => spans().filter((s) => s.name.startsWith('task '))
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId

describe('tracing', () => {
  it('one execution of the diamond: one execution span, four task spans under it, with the attributes', async () => {
    const harmonia = await createHarmonia({
      database: 'memory:store',
      strictComponents: false,
      components: { work: { step: (_: unknown, ctx: HandlerContext) => ({ task: ctx.taskId }) }, last: { join: () => ({}) } },
    })
    try {
      const wf = await harmonia.createWorkflow({ name: 'diamond', tasks: DIAMOND })
      const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
      const { execution_id } = await harmonia.startExecution({ workflow_id: wf.workflow_id, traceparent: incoming })
      expect((await harmonia.waitForExecution(execution_id)).status).toBe('completed')
      await until(() => spans().length === 5, 'five spans')
      const [execution, ...others] = spans().filter((s) => s.name === 'execution diamond')
      expect(others).toEqual([])
      expect(execution!.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
      expect(execution!.spanContext().spanId).toBe(executionSpanId(execution_id))
      expect(parentOf(execution!)).toBe('00f067aa0ba902b7')
      expect(execution!.attributes).toMatchObject({
        'harmonia.workflow': 'diamond',
        'harmonia.execution_id': execution_id,
        'harmonia.status': 'completed',
      })
      expect(
        taskSpans()
          .map((s) => s.attributes['harmonia.task_id'])
          .sort(),
      ).toEqual(['a', 'b', 'c', 'd'])
      for (const span of taskSpans()) {
        const taskId = String(span.attributes['harmonia.task_id'])
        expect(span.spanContext().traceId).toBe(execution!.spanContext().traceId)
        expect(parentOf(span)).toBe(execution!.spanContext().spanId)
        expect(span.spanContext().spanId).toBe(attemptSpanId(execution_id, taskId, 1))
        expect(span.attributes).toMatchObject({
          'harmonia.workflow': 'diamond',
          'harmonia.execution_id': execution_id,
          'harmonia.component': taskId === 'd' ? 'last' : 'work',
          'harmonia.action': taskId === 'd' ? 'join' : 'step',
          'harmonia.attempt': 1,
          'harmonia.status': 'completed',
        })
      }
      // The task spans lie inside the execution's, and d starts after b and c end.
      const time = (s: ReadableSpan, at: 'startTime' | 'endTime') => s[at][0] * 1e3 + s[at][1] / 1e6
      const byTask = new Map(taskSpans().map((s) => [s.attributes['harmonia.task_id'], s]))
      expect(time(byTask.get('d')!, 'startTime')).toBeGreaterThanOrEqual(time(byTask.get('b')!, 'endTime'))
      expect(time(execution!, 'endTime')).toBeGreaterThanOrEqual(time(byTask.get('d')!, 'endTime'))
    } finally {
      await harmonia.close()
    }
  })

  it('a restart mid-run does not make a second span for a task that had completed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'harmonia-tracing-'))
    const work = { step: (_: unknown, ctx: HandlerContext) => ({ task: ctx.taskId }) }
    let first: Harmonia | undefined = await createHarmonia({
      database: dir,
      strictComponents: false,
      // The join never answers in the first process: it is stopped while d runs (its signal ends the call).
      components: {
        work,
        last: {
          join: (_: unknown, ctx: HandlerContext) =>
            new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('stopped')))),
        },
      },
    })
    let second: Harmonia | undefined
    try {
      const wf = await first.createWorkflow({ name: 'diamond', tasks: DIAMOND })
      const { execution_id } = await first.startExecution({ workflow_id: wf.workflow_id })
      await until(async () => (await first!.getExecution(execution_id)).task_executions.d?.status === 'running', 'd running')
      await first.close()
      first = undefined
      expect(
        taskSpans()
          .map((s) => s.attributes['harmonia.task_id'])
          .sort(),
      ).toEqual(['a', 'b', 'c'])
      second = await createHarmonia({ database: dir, strictComponents: false, components: { work, last: { join: () => ({}) } } })
      expect((await second.waitForExecution(execution_id)).status).toBe('completed')
      await until(() => spans().some((s) => s.name === 'execution diamond'), 'the execution span')
      expect(
        taskSpans()
          .map((s) => s.attributes['harmonia.task_id'])
          .sort(),
      ).toEqual(['a', 'b', 'c', 'd'])
      expect(spans().filter((s) => s.name === 'execution diamond')).toHaveLength(1)
      expect(new Set(spans().map((s) => s.spanContext().traceId))).toEqual(new Set([traceIdOf(execution_id)]))
    } finally {
      await first?.close()
      await second?.close()
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('POST /api/executions keeps the request traceparent; a sub-workflow continues its parent task attempt span', async () => {
    const harmonia = await createHarmonia({ database: 'memory:store' })
    const server = await startServer({ harmonia, port: 0, hostname: '127.0.0.1', tokens: [] })
    try {
      const child = await harmonia.createWorkflow({ name: 'child', tasks: [{ id: 'inner', component: 'harmonia', action: 'noop' }] })
      const parent = await harmonia.createWorkflow({
        name: 'parent',
        tasks: [{ id: 'call', component: 'harmonia', action: 'run_workflow', input: { workflow_id: child.workflow_id } }],
      })
      const incoming = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
      const post = (traceparent: string) =>
        fetch(`${server.url}/api/executions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', traceparent },
          body: JSON.stringify({ workflow_id: parent.workflow_id, metadata: { team: 'ops' } }),
        }).then((r) => r.json() as Promise<{ execution_id: string; metadata: Record<string, unknown> }>)
      const started = await post(incoming)
      expect(started.metadata).toEqual({ team: 'ops', traceparent: incoming })
      const done = await harmonia.waitForExecution(started.execution_id)
      const childId = done.task_executions.call!.child_execution_id!
      await until(() => spans().filter((s) => s.name.startsWith('execution ')).length === 2, 'both execution spans')
      const childSpan = spans().find((s) => s.name === 'execution child')!
      expect(childSpan.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c')
      expect(parentOf(childSpan)).toBe(attemptSpanId(started.execution_id, 'call', 1))
      expect(childSpan.spanContext().spanId).toBe(executionSpanId(childId))
      // A malformed header is ignored (W3C): the execution gets a trace of its own.
      const ignored = await post('00-zz-not-a-trace-01')
      expect(ignored.metadata).toEqual({ team: 'ops' })
      await harmonia.waitForExecution(ignored.execution_id)
    } finally {
      await server.close()
      await harmonia.close()
    }
  })

  it('a remote component receives the traceparent of its attempt span', async () => {
    const component = await startComponentServer({ action: () => ({ status: 200, body: { output: { ok: true } } }) })
    const harmonia = await createHarmonia({ database: 'memory:store' })
    try {
      harmonia.registerComponent({ name: 'far', url: component.url })
      const wf = await harmonia.createWorkflow({ name: 'remote', tasks: [{ id: 'call', component: 'far', action: 'go' }] })
      const { execution_id } = await harmonia.startExecution({ workflow_id: wf.workflow_id })
      expect((await harmonia.waitForExecution(execution_id)).status).toBe('completed')
      const sent = component.calls[0]!.headers.traceparent
      expect(sent).toBe(`00-${traceIdOf(execution_id)}-${attemptSpanId(execution_id, 'call', 1)}-01`)
      await until(() => taskSpans().length === 1, 'the attempt span')
      expect(taskSpans()[0]!.spanContext().spanId).toBe(attemptSpanId(execution_id, 'call', 1))
    } finally {
      await harmonia.close()
    }
  })
})
