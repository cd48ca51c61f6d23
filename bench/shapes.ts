import { performance } from 'node:perf_hooks'
import { createHarmonia, type Harmonia } from '../src/index.js'
import type { Logger } from '../src/logger.js'

/** A logger that drops everything: benchmarks measure the engine, not its log lines. */
export const quietLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quietLogger }

/** Workflow shapes the benchmarks run: a chain and a fan-out/fan-in of `n` noop tasks. */
export type Shape = { id: string; component: string; action: string; depends_on: string[] }[]

export function chain(n: number): Shape {
  return Array.from({ length: n }, (_, i) => ({
    id: `t${i}`,
    component: 'harmonia',
    action: 'noop',
    depends_on: i === 0 ? [] : [`t${i - 1}`],
  }))
}

/** root → (n − 2) parallel tasks → join. */
export function fanOut(n: number): Shape {
  const middle = Array.from({ length: n - 2 }, (_, i) => `m${i}`)
  return [
    { id: 'root', component: 'harmonia', action: 'noop', depends_on: [] },
    ...middle.map((id) => ({ id, component: 'harmonia', action: 'noop', depends_on: ['root'] })),
    { id: 'join', component: 'harmonia', action: 'noop', depends_on: middle },
  ]
}

/** One task that fans out over `n` elements (`for_each`): the elements are not tasks of the DAG. */
export function elements(n: number, concurrency: number) {
  return [
    {
      id: 'each',
      component: 'harmonia',
      action: 'noop',
      for_each: Array.from({ length: n }, (_, i) => i),
      for_each_concurrency: concurrency,
      input: { i: '${item}' },
    },
  ]
}

/**
 * The CPU floor: a plain Promise-based DAG runner with the same concurrency limit and no XState, no events,
 * no persistence. What any engine's per-task overhead is measured against.
 */
export async function plainRun(shape: Shape, limit: number, handler: () => unknown = () => ({})): Promise<void> {
  const index = new Map(shape.map((t, i) => [t.id, i]))
  const remaining = shape.map((t) => t.depends_on.length)
  const dependents: number[][] = shape.map(() => [])
  shape.forEach((t, i) => t.depends_on.forEach((d) => dependents[index.get(d)!]!.push(i)))
  const outputs: unknown[] = new Array(shape.length)
  const ready = shape.map((_, i) => i).filter((i) => remaining[i] === 0)
  let running = 0
  let done = 0
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (running < limit && ready.length > 0) {
        const i = ready.pop()!
        running++
        void Promise.resolve()
          .then(handler)
          .then((out) => {
            outputs[i] = out
            running--
            done++
            for (const j of dependents[i]!) if (--remaining[j]! === 0) ready.push(j)
            if (done === shape.length) resolve()
            else pump()
          })
      }
    }
    pump()
  })
}

/**
 * Milliseconds from start to completion of `executions` executions of `shape` started together (default one) on a
 * fresh engine on the memory store; `setup` registers what the shape needs first.
 */
export async function engineRun(
  shape: Shape | ReturnType<typeof elements>,
  maxConcurrency: number,
  setup?: (harmonia: Harmonia) => void,
  executions = 1,
): Promise<number> {
  const harmonia = await createHarmonia({ database: 'memory:store', logger: quietLogger })
  try {
    setup?.(harmonia)
    const workflow = await harmonia.createWorkflow({ name: 'bench', tasks: shape, max_concurrency: maxConcurrency })
    const t0 = performance.now()
    const started = await Promise.all(Array.from({ length: executions }, () => harmonia.startExecution({ workflow_id: workflow.workflow_id })))
    const done = await Promise.all(started.map(({ execution_id }) => harmonia.waitForExecution(execution_id)))
    const ms = performance.now() - t0
    const failed = done.find((d) => d.status !== 'completed')
    if (failed) throw new Error(`bench execution ended ${failed.status}`)
    return ms
  } finally {
    await harmonia.close()
  }
}

/** Start → result of a 1-task noop execution, `samples` in a row (after 20 warm-ups) on the memory store: ms p50/p99. */
export async function engineLatency(samples: number): Promise<{ p50: number; p99: number }> {
  const harmonia = await createHarmonia({ database: 'memory:store', logger: quietLogger })
  try {
    const workflow = await harmonia.createWorkflow({ name: 'one', tasks: [{ id: 'n', component: 'harmonia', action: 'noop' }] })
    const ms: number[] = []
    for (let i = 0; i < samples + 20; i++) {
      const t0 = performance.now()
      const { execution_id } = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
      await harmonia.waitForExecution(execution_id)
      if (i >= 20) ms.push(performance.now() - t0)
    }
    ms.sort((a, b) => a - b)
    return { p50: ms[Math.floor(samples / 2)]!, p99: ms[Math.min(samples - 1, Math.floor(samples * 0.99))]! }
  } finally {
    await harmonia.close()
  }
}

/** Best of `runs` (after one warm-up): the least disturbed measurement on a shared 2-core machine. */
export async function best(runs: number, fn: () => Promise<number>): Promise<number> {
  await fn()
  let min = Infinity
  for (let i = 0; i < runs; i++) min = Math.min(min, await fn())
  return min
}
