import { describe, expect, it } from 'vitest'
import { createActor, SimulatedClock, toPromise, waitFor } from 'xstate'
import type { ExecutionInput } from '../../src/machines/execution.context.js'
import { executionMachine } from '../../src/machines/execution.machine.js'
import type { Emitted } from '../../src/machines/events.js'
import { attemptActions } from '../../src/machines/attempts.js'
import { taskMachine, type AttemptInput } from '../../src/machines/task.machine.js'
import { parseWorkflowDefinition } from '../../src/model/validate.js'
import { EXECUTION_STATUSES } from '../../src/model/status.js'
import { deferred } from '../support/async.js'

type Run = (i: AttemptInput) => unknown

function embed(body: unknown, run: Run, over: Partial<ExecutionInput> = {}) {
  const definition = parseWorkflowDefinition(body)
  const machine = executionMachine.provide({
    actors: { task: taskMachine.provide({ actions: attemptActions(async ({ input }) => run(input)) }) },
  })
  const clock = new SimulatedClock()
  const facts: Emitted[] = []
  const actor = createActor(machine, {
    input: { executionId: 'e1', workflowId: 'w1', workflowVersion: 1, definition, input: {}, seed: 1, ...over },
    clock,
  })
  actor.on('*', (f) => facts.push(f))
  actor.start()
  return { actor, facts, clock }
}

const names = (facts: Emitted[]) => facts.flatMap((f) => (f.type === 'fact' ? [f.taskId ? `${f.event}:${f.taskId}` : f.event] : []))

describe('executionMachine', () => {
  it('only uses states from the shared status vocabulary', () => {
    expect(Object.keys(executionMachine.root.states).sort()).toEqual([...EXECUTION_STATUSES].sort())
  })

  it('waits in pending until execution.start, then runs a chain in order and computes the output', async () => {
    const { actor, facts } = embed(
      {
        name: 'chain',
        tasks: [
          { id: 'a', component: 'c', action: 'x', input: { v: '${input.n}' } },
          { id: 'b', component: 'c', action: 'x', input: { v: '${tasks.a.output.v * 2}' }, depends_on: ['a'] },
        ],
        output: { result: '${tasks.b.output.v}' },
      },
      (i) => i.input,
      { input: { n: 21 } },
    )
    expect(actor.getSnapshot().value).toBe('pending')
    actor.send({ type: 'execution.start' })
    await expect(toPromise(actor)).resolves.toEqual({ status: 'completed', output: { result: 42 }, error: null })
    expect(names(facts)).toEqual([
      'workflow_started',
      'task_started:a',
      'task_completed:a',
      'task_started:b',
      'task_completed:b',
      'workflow_completed',
    ])
  })

  it('holds no more live task actors than max_concurrency, and none once done', async () => {
    const tasks = Array.from({ length: 50 }, (_, i) => ({ id: `t${i}`, component: 'c', action: 'x' }))
    let peak = 0
    const { actor } = embed({ name: 'wide', tasks, max_concurrency: 4 }, () => ({}))
    actor.subscribe((s) => (peak = Math.max(peak, Object.keys(s.children).length)))
    actor.send({ type: 'execution.start' })
    await toPromise(actor)
    expect(peak).toBe(4)
    expect(Object.keys(actor.getSnapshot().children)).toHaveLength(0)
  })

  it('pause holds new starts and resume continues; cancel stops live children', async () => {
    const gate = deferred()
    const { actor, facts } = embed(
      {
        name: 'p',
        tasks: [
          { id: 'a', component: 'c', action: 'x' },
          { id: 'b', component: 'c', action: 'x', depends_on: ['a'] },
        ],
      },
      async (i) => (i.taskId === 'a' ? gate.promise.then(() => 'a') : 'b'),
    )
    actor.send({ type: 'execution.start' })
    await waitFor(actor, (s) => s.context.ledger.tasks[0]!.status === 'running')
    actor.send({ type: 'execution.pause' })
    expect(actor.getSnapshot().value).toBe('paused')
    gate.resolve()
    await waitFor(actor, (s) => s.context.ledger.tasks[0]!.status === 'completed')
    expect(actor.getSnapshot().value).toBe('paused')
    expect(actor.getSnapshot().context.ledger.tasks[1]!.status).toBe('pending')
    actor.send({ type: 'execution.resume' })
    await expect(toPromise(actor)).resolves.toMatchObject({ status: 'completed' })
    expect(names(facts)).toEqual([
      'workflow_started',
      'task_started:a',
      'workflow_paused',
      'task_completed:a',
      'workflow_resumed',
      'task_started:b',
      'task_completed:b',
      'workflow_completed',
    ])
  })

  it('execution.cancel ends canceled with every unfinished task canceled, aborting the running call', async () => {
    let signal: AbortSignal | undefined
    const definition = parseWorkflowDefinition({
      name: 'c',
      tasks: [
        { id: 'a', component: 'c', action: 'x' },
        { id: 'b', component: 'c', action: 'x', depends_on: ['a'] },
      ],
    })
    const machine = executionMachine.provide({
      actors: { task: taskMachine.provide({ actions: attemptActions(({ signal: s }) => ((signal = s), new Promise(() => {}))) }) },
    })
    const actor = createActor(machine, {
      input: { executionId: 'e', workflowId: 'w', workflowVersion: 1, definition, input: {}, seed: 3 },
    }).start()
    actor.send({ type: 'execution.start' })
    await waitFor(actor, (s) => s.context.ledger.tasks[0]!.status === 'running')
    actor.send({ type: 'execution.cancel' })
    expect(signal!.aborted).toBe(true)
    await expect(toPromise(actor)).resolves.toMatchObject({ status: 'canceled' })
    expect(actor.getSnapshot().context.ledger.tasks.map((t) => t.status)).toEqual(['canceled', 'canceled'])
  })

  it('execution.timeout fails the execution with a timeout error', async () => {
    const { actor } = embed({ name: 't', tasks: [{ id: 'a', component: 'c', action: 'x' }] }, () => new Promise(() => {}))
    actor.send({ type: 'execution.start' })
    await waitFor(actor, (s) => s.context.ledger.tasks[0]!.status === 'running')
    actor.send({ type: 'execution.timeout' })
    await expect(toPromise(actor)).resolves.toMatchObject({ status: 'failed', error: { code: 'timeout' } })
  })

  it('carried tasks keep their outputs and are not run again', async () => {
    const ran: string[] = []
    const { actor, facts } = embed(
      {
        name: 'carry',
        tasks: [
          { id: 'a', component: 'c', action: 'x' },
          { id: 'b', component: 'c', action: 'x', input: { from_a: '${tasks.a.output}' }, depends_on: ['a'] },
        ],
      },
      (i) => (ran.push(i.taskId), i.input),
      { carried: { a: { status: 'completed', output: 'kept', attempts: 1 } } },
    )
    actor.send({ type: 'execution.start' })
    await toPromise(actor)
    expect(ran).toEqual(['b'])
    expect(actor.getSnapshot().context.ledger.tasks[1]!.output).toEqual({ from_a: 'kept' })
    expect(names(facts)).toEqual(['workflow_started', 'task_started:b', 'task_completed:b', 'workflow_completed'])
  })

  it('state updates are visible to expressions of tasks spawned later', async () => {
    const { actor } = embed(
      {
        name: 's',
        tasks: [
          { id: 'a', component: 'c', action: 'x' },
          { id: 'b', component: 'c', action: 'x', input: { who: '${state.user}' }, depends_on: ['a'] },
        ],
      },
      (i) => i.input,
      { state: { user: 'before' } },
    )
    actor.send({ type: 'execution.state', state: { user: 'ada' } })
    actor.send({ type: 'execution.start' })
    await toPromise(actor)
    expect(actor.getSnapshot().context.ledger.tasks[1]!.output).toEqual({ who: 'ada' })
  })

  it('an input expression that fails at run time fails the task without retrying it', async () => {
    const { actor, facts } = embed(
      {
        name: 'bad',
        tasks: [
          { id: 'a', component: 'c', action: 'x' },
          { id: 'b', component: 'c', action: 'x', input: { v: '${tasks.a.output.missing}' }, depends_on: ['a'], retry: 3 },
        ],
      },
      () => ({}),
    )
    actor.send({ type: 'execution.start' })
    await expect(toPromise(actor)).resolves.toMatchObject({ status: 'failed' })
    const failed = facts.find((f) => f.type === 'fact' && f.event === 'task_failed')
    expect(failed).toMatchObject({ taskId: 'b', data: { error: { code: 'expression', retryable: false } } })
  })
})
