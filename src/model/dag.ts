/**
 * Graph algorithms on task indices, linear in tasks + dependencies: a 10,000-task workflow whose join task depends
 * on 9,998 others must validate in milliseconds. `deps[i]` lists the tasks that task i depends on.
 */

/** Dependents lists: the reverse of `deps`. */
export function dependentsOf(deps: readonly (readonly number[])[]): number[][] {
  const dependents: number[][] = deps.map(() => [])
  deps.forEach((list, i) => {
    for (const d of list) dependents[d]!.push(i)
  })
  return dependents
}

/**
 * Kahn's algorithm. `rank[i]` is the position of task i in a topological order, or -1 for a task on a cycle or
 * downstream of one. `complete` is false when some task has no rank.
 */
export function topologicalRanks(
  deps: readonly (readonly number[])[],
  dependents: readonly (readonly number[])[],
): { rank: Int32Array; complete: boolean } {
  const n = deps.length
  const rank = new Int32Array(n).fill(-1)
  const waiting = new Int32Array(n)
  const queue = new Int32Array(n)
  let tail = 0
  for (let i = 0; i < n; i++) {
    waiting[i] = deps[i]!.length
    if (waiting[i] === 0) queue[tail++] = i
  }
  for (let head = 0; head < tail; head++) {
    const task = queue[head]!
    rank[task] = head
    for (const next of dependents[task]!) if (--waiting[next]! === 0) queue[tail++] = next
  }
  return { rank, complete: tail === n }
}

/**
 * Up to `limit` dependency cycles among the tasks without a rank, each as a list of task indices where every task
 * depends on the next and the last depends on the first. Iterative depth-first search (a 10,000-task chain must not
 * overflow the stack).
 */
export function findCycles(deps: readonly (readonly number[])[], rank: Int32Array, limit = 10): number[][] {
  const n = deps.length
  const WHITE = 0
  const GREY = 1
  const BLACK = 2
  const colour = new Uint8Array(n)
  const position = new Int32Array(n).fill(-1)
  const cycles: number[][] = []
  const stack: number[] = []
  const edge: number[] = []
  for (let start = 0; start < n && cycles.length < limit; start++) {
    if (rank[start] !== -1 || colour[start] !== WHITE) continue
    stack.push(start)
    edge.push(0)
    colour[start] = GREY
    position[start] = 0
    while (stack.length > 0) {
      const top = stack.length - 1
      const task = stack[top]!
      const list = deps[task]!
      const k = edge[top]!
      if (k >= list.length) {
        colour[task] = BLACK
        position[task] = -1
        stack.pop()
        edge.pop()
        continue
      }
      edge[top] = k + 1
      const next = list[k]!
      if (rank[next] !== -1) continue
      if (colour[next] === GREY) {
        if (cycles.length < limit) cycles.push(stack.slice(position[next]))
      } else if (colour[next] === WHITE) {
        colour[next] = GREY
        position[next] = stack.length
        stack.push(next)
        edge.push(0)
      }
    }
  }
  return cycles
}

/**
 * For each query, whether `upstream` is an ancestor of `task` (reachable through depends_on, transitively).
 * Queries are grouped by `upstream`: one forward search per distinct upstream task, which stops as soon as every task
 * asking about it is found and (when ranks are known) never walks past the highest-ranked of them.
 */
export function areUpstream(
  dependents: readonly (readonly number[])[],
  rank: Int32Array,
  ranked: boolean,
  queries: readonly { task: number; upstream: number }[],
): boolean[] {
  const answers = queries.map(() => false)
  const byUpstream = new Map<number, number[]>()
  queries.forEach((query, q) => {
    const list = byUpstream.get(query.upstream)
    if (list) list.push(q)
    else byUpstream.set(query.upstream, [q])
  })
  const seen = new Uint32Array(dependents.length)
  let epoch = 0
  for (const [upstream, qs] of byUpstream) {
    epoch++
    const wanted = new Map<number, number[]>()
    let ceiling = -1
    for (const q of qs) {
      const task = queries[q]!.task
      const list = wanted.get(task)
      if (list) list.push(q)
      else wanted.set(task, [q])
      ceiling = Math.max(ceiling, rank[task]!)
    }
    let remaining = wanted.size
    const queue = [upstream]
    seen[upstream] = epoch
    for (let head = 0; head < queue.length && remaining > 0; head++) {
      for (const next of dependents[queue[head]!]!) {
        if (seen[next] === epoch) continue
        seen[next] = epoch
        const found = wanted.get(next)
        if (found) {
          for (const q of found) answers[q] = true
          remaining--
        }
        // A task ranked above every asker cannot lead to one of them.
        if (ranked && rank[next]! > ceiling) continue
        queue.push(next)
      }
    }
  }
  return answers
}
