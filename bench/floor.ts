import { assign, createActor, setup, type AnyActorLogic } from 'xstate'
import { DEFAULT_RETRY_POLICY } from '../src/model/definition.js'
import { attemptActions } from '../src/machines/attempts.js'
import { taskMachine, type TaskInput } from '../src/machines/task.machine.js'

/**
 * What the fixed shape (an XState actor per task, reporting to an execution actor) costs before Harmonia does any work
 * of its own: CPU µs per task for a bare one-transition actor, the same plus one event to a parent actor, and
 * Harmonia's task machine with a noop attempt. Sets the floor under the engine's per-task figures.
 */
export async function xstateFloor(samples = 20_000): Promise<void> {
  const tiny = setup({}).createMachine({
    initial: 'running',
    states: { running: { on: { done: 'completed' } }, completed: { type: 'final' } },
  })
  const parent = createActor(
    setup({}).createMachine({
      context: { done: 0 },
      on: { 'task.done': { actions: assign({ done: ({ context }) => context.done + 1 }) } },
    }),
  ).start()
  const task = taskMachine.provide({ actions: attemptActions(() => Promise.resolve({})) })
  const input: TaskInput = {
    executionId: 'e',
    workflowId: 'w',
    taskId: 't',
    component: 'harmonia',
    action: 'noop',
    input: {},
    policy: DEFAULT_RETRY_POLICY,
    seed: 1,
  }
  const life = (
    logic: AnyActorLogic,
    opts: { input?: TaskInput },
    kick: (actor: ReturnType<typeof createActor>) => void,
    onEnd = () => {},
  ) =>
    new Promise<void>((resolve) => {
      const actor = createActor(logic, opts)
      actor.subscribe({ complete: () => (onEnd(), resolve()) })
      actor.start()
      kick(actor)
    })
  const rows: [string, () => Promise<void>][] = [
    ['bare actor: create, start, 1 event, done', () => life(tiny, {}, (a) => a.send({ type: 'done' }))],
    [
      '  + one event to a parent actor',
      () =>
        life(
          tiny,
          {},
          (a) => a.send({ type: 'done' }),
          () => parent.send({ type: 'task.done' }),
        ),
    ],
    ["Harmonia's task machine, noop attempt", () => life(task, { input }, () => {})],
  ]
  console.log('XState floor per task (CPU µs; the 20,000 tasks/s target is 50 µs for everything):')
  for (const [label, one] of rows) {
    for (let i = 0; i < 2_000; i++) await one()
    const cpu0 = process.cpuUsage()
    for (let i = 0; i < samples; i++) await one()
    const cpu = process.cpuUsage(cpu0)
    console.log(`  ${label.padEnd(44)} ${((cpu.user + cpu.system) / samples).toFixed(1).padStart(6)} µs`)
  }
  parent.stop()
}
