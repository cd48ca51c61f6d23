import { describe, expect, it } from 'vitest'
import { areUpstream, dependentsOf, findCycles, topologicalRanks } from '../../src/model/dag.js'

// deps[i]: what task i depends on.
const diamond = [[], [0], [0], [1, 2], []]

describe('dag', () => {
  it('ranks an acyclic graph in topological order', () => {
    const { rank, complete } = topologicalRanks(diamond, dependentsOf(diamond))
    expect(complete).toBe(true)
    for (const [i, list] of diamond.entries()) for (const d of list) expect(rank[d]!).toBeLessThan(rank[i]!)
  })

  it('finds cycles as lists where each task depends on the next', () => {
    const deps = [[1], [2], [0], [2]]
    const { rank, complete } = topologicalRanks(deps, dependentsOf(deps))
    expect(complete).toBe(false)
    expect([...rank]).toEqual([-1, -1, -1, -1])
    expect(findCycles(deps, rank)).toEqual([[0, 1, 2]])
  })

  it('answers upstream queries transitively, and only upstream', () => {
    const dependents = dependentsOf(diamond)
    const { rank } = topologicalRanks(diamond, dependents)
    const queries = [
      { task: 3, upstream: 0 },
      { task: 3, upstream: 1 },
      { task: 1, upstream: 2 },
      { task: 0, upstream: 3 },
      { task: 4, upstream: 0 },
    ]
    expect(areUpstream(dependents, rank, true, queries)).toEqual([true, true, false, false, false])
    expect(areUpstream(dependents, rank, false, queries)).toEqual([true, true, false, false, false])
  })
})
