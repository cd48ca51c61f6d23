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
