import { describe, expect, it } from 'vitest'
import { newTaskExecution } from '../../src/actors/projection.js'
import type { Execution } from '../../src/model/resources.js'
import { createFinishedCache } from '../../src/services/finished.js'

const execution = (id: string, tasks: number): Execution => ({
  execution_id: id,
  workflow_id: 'w',
  workflow_version: 1,
  status: 'completed',
  start_time: null,
  end_time: null,
  input: {},
  output: null,
  error: null,
  metadata: {},
  restored_from: null,
  rerun_of: null,
  parent: null,
  task_executions: Object.fromEntries(Array.from({ length: tasks }, (_, i) => [`t${i}`, newTaskExecution(`t${i}`)])),
})

describe('the finished-executions cache', () => {
  it('answers copies: a reader cannot change what the next reader gets', () => {
    const cache = createFinishedCache()
    cache.remember(execution('a', 1))
    const first = cache.get('a')!
    first.status = 'failed'
    first.task_executions.t0!.status = 'failed'
    expect(cache.get('a')).toMatchObject({ status: 'completed', task_executions: { t0: { status: 'pending' } } })
    expect(cache.get('missing')).toBeUndefined()
  })

  it('keeps at most 1,000 executions, oldest out first', () => {
    const cache = createFinishedCache()
    for (let i = 0; i < 1001; i++) cache.remember(execution(`e${i}`, 1))
    expect(cache.get('e0')).toBeUndefined()
    expect(cache.get('e1')).toBeDefined()
    expect(cache.get('e1000')).toBeDefined()
  })

  it('is bounded by task rows too: big executions push the oldest out, the newest always stays', () => {
    const cache = createFinishedCache()
    for (let i = 0; i < 5; i++) cache.remember(execution(`big${i}`, 10_000))
    // 5 × 10,001 rows is over the 50,000 bound: the oldest went.
    expect(cache.get('big0')).toBeUndefined()
    expect(cache.get('big1')).toBeDefined()
    cache.remember(execution('huge', 60_000))
    expect(cache.get('big4')).toBeUndefined()
    expect(cache.get('huge')).toBeDefined()
  })
})
