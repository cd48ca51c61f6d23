/** The 30-task DAG of the crash suite, with one special task per scenario. */
export type Scenario = 'in_handler' | 'backoff' | 'after_complete' | 'paused' | 'sleep'

export const SLEEP_MS = 2000
export const BACKOFF_S = 2

/**
 * t00 → t01..t09 (a chain of nine) and t00 → t10..t19 (fan-out) → t20..t28 (each joins two of the fan-out) → t29 (join
 * of everything at depth 3). Every task gets the values of its dependencies, so its output proves its inputs.
 */
export function crashDeps(): Record<string, string[]> {
  const deps: Record<string, string[]> = { t00: [] }
  const id = (n: number) => `t${String(n).padStart(2, '0')}`
  for (let n = 1; n <= 9; n++) deps[id(n)] = [id(n - 1)]
  for (let n = 10; n <= 19; n++) deps[id(n)] = ['t00']
  for (let n = 20; n <= 28; n++) deps[id(n)] = [id(n - 10), id(n - 9)]
  deps.t29 = ['t09', ...Array.from({ length: 9 }, (_, k) => id(20 + k))]
  return deps
}

/** The action of each task in a scenario: the special task sits in the middle of the chain (t06). */
function actionOf(scenario: Scenario, id: string): { action: string; retry?: unknown; input?: Record<string, unknown> } {
  if (scenario === 'paused' && id === 't05') return { action: 'pause_self' }
  if (id !== 't06') return { action: 'work' }
  switch (scenario) {
    case 'in_handler':
      return { action: 'hang_once' }
    case 'backoff':
      return { action: 'fail_once', retry: { max_attempts: 2, initial_interval: BACKOFF_S, jitter: false } }
    case 'sleep':
      return { action: 'nap', input: { ms: SLEEP_MS } }
    case 'after_complete':
    case 'paused':
      return { action: 'work' }
  }
}

export function crashWorkflow(scenario: Scenario) {
  const deps = crashDeps()
  return {
    name: `crash-${scenario}`,
    max_concurrency: 4,
    tasks: Object.entries(deps).map(([id, on]) => {
      const special = actionOf(scenario, id)
      return {
        id,
        component: 'crash',
        action: special.action,
        depends_on: on,
        input: { deps: on.map((d) => `\${tasks.${d}.output.value}`), ...special.input },
        ...(special.retry ? { retry: special.retry } : {}),
      }
    }),
  }
}

/** The value every task must end with: 1 + the sum of its dependencies' values. */
export function expectedValues(): Record<string, number> {
  const deps = crashDeps()
  const values: Record<string, number> = {}
  const value = (id: string): number => (values[id] ??= 1 + deps[id]!.reduce((a, d) => a + value(d), 0))
  for (const id of Object.keys(deps)) value(id)
  return values
}
