import type { TaskFailure } from '../errors.js'
import type { WorkflowDefinition } from '../model/definition.js'
import type { CarriedTask } from '../model/resources.js'
import type { SkipReason, TaskStatus } from '../model/status.js'
import { fact, type Emitted } from './events.js'
import { planOf, type Plan } from './plan.js'

/**
 * The execution supervisor's record of every task, index-aligned with the definition: what is pending, live, settled.
 *
 * The ledger is mutated in place by the machine's actions. That is deliberate: copying a 10,000-entry record on every
 * task transition would make an execution quadratic in its size. It is plain JSON, owned by exactly one actor, and
 * only ever changed inside that machine's own transitions, so the machine stays deterministic and replayable; what it
 * gives up is that an old snapshot object does not keep its old ledger.
 */

/** The supervisor's record of one task. */
export type LedgerEntry = {
  status: TaskStatus
  attempts: number
  output: unknown
  error: TaskFailure | null
  /** Dependencies not yet settled. */
  remaining: number
  /** A live task actor exists for this task. */
  live: boolean
  /** The input resolved at spawn time. */
  input?: unknown
  skip?: SkipReason
}

export type Ledger = {
  tasks: LedgerEntry[]
  ready: number[]
  readyHead: number
  live: number
  settled: number
  failed: number
  rng: number
}

/** A stored task row, as far as the supervisor needs it to rebuild its ledger. */
export type StoredTask = {
  task_id: string
  status: TaskStatus
  attempts: number
  input: unknown
  output: unknown
  error: TaskFailure | null
  skip: SkipReason | null
}

const BLOCKING: ReadonlySet<TaskStatus> = new Set(['failed', 'canceled'])
const SETTLED: ReadonlySet<TaskStatus> = new Set(['completed', 'failed', 'skipped', 'canceled'])

/** True once a task can no longer change. */
export const isSettled = (entry: LedgerEntry): boolean => SETTLED.has(entry.status)

/** The ledger of a new execution; carried tasks (a restore, a rerun) start completed with their outputs. */
export function createLedger(definition: WorkflowDefinition, seed: number, carried: Record<string, CarriedTask> = {}): Ledger {
  const plan = planOf(definition)
  const tasks: LedgerEntry[] = plan.ids.map((id, i) => {
    const kept = Object.hasOwn(carried, id) ? carried[id] : undefined
    if (kept) return { status: 'completed', attempts: kept.attempts, output: kept.output, error: null, remaining: 0, live: false }
    const open = plan.deps[i]!.filter((d) => !Object.hasOwn(carried, plan.ids[d]!)).length
    return { status: 'pending', attempts: 0, output: null, error: null, remaining: open, live: false }
  })
  const ready: number[] = []
  tasks.forEach((entry, i) => {
    if (entry.status === 'pending' && entry.remaining === 0) ready.push(i)
  })
  const settled = tasks.filter((t) => t.status === 'completed').length
  return { tasks, ready, readyHead: 0, live: 0, settled, failed: 0, rng: seed >>> 0 }
}

/**
 * Rebuilds the ledger from stored task rows (recovery). Tasks that were active (running, retrying, paused) are
 * marked live: the runtime re-hosts their actors. Settled tasks stay settled; pending tasks whose dependencies are
 * settled are ready again.
 */
export function ledgerFromRows(definition: WorkflowDefinition, rows: readonly StoredTask[], seed: number): Ledger {
  const plan = planOf(definition)
  const byId = new Map(rows.map((r) => [r.task_id, r]))
  const tasks: LedgerEntry[] = plan.ids.map((id) => {
    const row = byId.get(id)
    const status = row?.status ?? 'pending'
    const live = status === 'running' || status === 'retrying' || status === 'paused'
    const entry: LedgerEntry = {
      status,
      attempts: row?.attempts ?? 0,
      output: row?.output ?? null,
      error: row?.error ?? null,
      remaining: 0,
      live,
      input: row?.input,
    }
    if (row?.skip) entry.skip = row.skip
    return entry
  })
  const unblocks = (entry: LedgerEntry) => entry.status === 'completed' || (entry.status === 'skipped' && entry.skip === 'condition')
  const ready: number[] = []
  let settled = 0
  let failed = 0
  let live = 0
  tasks.forEach((entry, i) => {
    if (entry.live) live++
    if (isSettled(entry)) settled++
    if (entry.status === 'failed') failed++
    if (entry.status === 'pending') {
      entry.remaining = plan.deps[i]!.filter((d) => !unblocks(tasks[d]!)).length
      if (entry.remaining === 0) ready.push(i)
    }
  })
  return { tasks, ready, readyHead: 0, live, settled, failed, rng: seed >>> 0 }
}

/**
 * Settles task `i` and releases or skips its dependents, iteratively (a 10,000-task chain must not recurse).
 * Facts for cascaded skips are pushed to `out`, each naming its cause (`data.cause`) so nothing downstream parses
 * the human-readable reason.
 */
export function settle(plan: Plan, ledger: Ledger, i: number, status: TaskStatus, out: Emitted[], skip?: SkipReason): void {
  const stack: Array<[number, TaskStatus, SkipReason | undefined]> = [[i, status, skip]]
  while (stack.length > 0) {
    const [k, st, why] = stack.pop()!
    const entry = ledger.tasks[k]!
    entry.status = st
    if (why) entry.skip = why
    ledger.settled++
    if (st === 'failed') ledger.failed++
    const blocks = BLOCKING.has(st) || (st === 'skipped' && why === 'upstream')
    for (const j of plan.dependents[k]!) {
      const dep = ledger.tasks[j]!
      if (dep.status !== 'pending' || dep.live) continue
      if (blocks) {
        // Marked now so that a second failed parent does not skip it twice.
        dep.status = 'skipped'
        const reason = `upstream task ${plan.ids[k]} ${st === 'skipped' ? 'was skipped' : st}`
        out.push(fact('task_skipped', { reason, cause: 'upstream', upstream: plan.ids[k] }, plan.ids[j]))
        stack.push([j, 'skipped', 'upstream'])
      } else if (--dep.remaining === 0) {
        ledger.ready.push(j)
      }
    }
  }
}
