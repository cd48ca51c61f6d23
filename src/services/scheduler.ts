import { after, type Clock } from '../clock.js'
import type { WorkflowRecord } from '../db/store.js'
import { NotFoundError, ValidationError } from '../errors.js'
import { uuidv7 } from '../model/ids.js'
import { resolveWorkflowInput } from '../model/input.js'
import {
  catchUpTicks,
  cronOfKey,
  MAX_CATCH_UP,
  nextTick,
  nextTicks,
  scheduleKey,
  ticksBetween,
  type Schedule,
  type ScheduleInfo,
} from '../model/schedule.js'
import { assertRunnableDirectly } from '../model/template.js'
import { iso, type ServiceContext } from './context.js'
import type { ExecutionService } from './executions.js'
import type { WorkflowService } from './workflows.js'

/** One schedule of the latest version of a workflow, as this process follows it. */
type Entry = {
  record: WorkflowRecord
  schedule: Schedule
  key: string
  /** Every tick up to this instant (ms) is dealt with. */
  cursor: number
  /** After a failed tick (the database was away), it is tried again from this instant. */
  retryAt: number
}

/** The longest single timer: Node fires a longer setTimeout after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1
const RETRY_MS = 1000

/**
 * The scheduler of one engine (API.md "Schedules"). It follows the enabled schedules of the latest version of every
 * workflow and arms ONE timer on the engine's clock, for the nearest next tick of all of them; croner only computes
 * the ticks. Every piece of work (start, a workflow change, a wake) runs in one queue, one after the other.
 *
 * Exactly once per tick: the tick's row (schedule_ticks, primary key workflow + schedule + tick) is inserted first,
 * `ON CONFLICT DO NOTHING`, with the id of the execution it will start already chosen; only the node that inserted it
 * starts that execution, then marks the row `started`. A crash between the two leaves a row not started: the next
 * start finds it and starts the execution it names — unless that execution's rows exist already (the crash came after
 * the commit), in which case it only marks the row. Either way the tick starts one execution, never two, never none.
 * Both steps in one transaction would need the execution's creation inside the journal's commit; the row carrying
 * the chosen id gives the same guarantee with the journal left as it is.
 *
 * Several nodes: each follows the workflows it read at start and its own changes, and the claim makes every other
 * node's attempt at a tick a no-op. Hearing of another node's workflow changes (LISTEN/NOTIFY), and not resuming an
 * unstarted tick that a live node is still starting, are for the multi-node work (issue 12).
 */
export function createScheduler(
  ctx: ServiceContext,
  deps: { clock: Clock; workflows: WorkflowService; executions: Pick<ExecutionService, 'startScheduled'> },
) {
  const { store, logger } = ctx
  const entries = new Map<string, Entry[]>()
  let timer: unknown = null
  let queue: Promise<void> = Promise.resolve()
  let running = false
  /** A started tick whose execution could not be started: the next wake resumes it. */
  let resumeNeeded = false
  /** False until the start-up load succeeded (the database may be away when the engine starts): retried until then. */
  let loaded = false
  /** Workflows with a change waiting in the queue (how many). */
  const queued = new Map<string, number>()

  function enqueue(job: () => Promise<void>): Promise<void> {
    const next = queue.then(async () => {
      if (!running) return
      try {
        await job()
      } catch (error) {
        logger.error('scheduler: a step failed', { error: String(error) })
      } finally {
        arm()
      }
    })
    queue = next
    return next
  }

  /** The input a tick starts its execution with, or the reason it cannot start one. */
  function prepare(record: WorkflowRecord, input: Record<string, unknown>): { input: Record<string, unknown> } | { problem: string } {
    try {
      assertRunnableDirectly(record.definition)
      return { input: resolveWorkflowInput(record.definition.input, input) }
    } catch (error) {
      if (error instanceof ValidationError) return { problem: error.message }
      throw error
    }
  }

  async function start(record: WorkflowRecord, key: string, tick: string, executionId: string, input: Record<string, unknown>) {
    const metadata = { schedule: { cron: cronOfKey(key), tick } }
    await deps.executions.startScheduled({ execution_id: executionId, workflow: record, input, metadata })
    await store.schedules.markStarted(record.workflowId, key, tick)
  }

  /** Takes one tick: claims its row, and starts its execution when this call claimed it. */
  async function fire(entry: Entry, tickMs: number): Promise<void> {
    const tick = iso(tickMs)
    const prepared = prepare(entry.record, entry.schedule.input)
    const executionId = 'input' in prepared ? uuidv7() : null
    const claimed = await store.schedules.claimTick({
      workflow_id: entry.record.workflowId,
      schedule: entry.key,
      tick,
      execution_id: executionId,
      created_at: iso(ctx.now()),
      started: executionId === null,
    })
    if (!claimed) return // another node, or this one before a restart, took it
    if ('problem' in prepared) {
      // Recorded all the same: the tick is spent, and the scheduler carries on with the next one.
      logger.warn('scheduler: a tick started nothing', { workflow_id: entry.record.workflowId, tick, problem: prepared.problem })
      return
    }
    try {
      await start(entry.record, entry.key, tick, executionId!, prepared.input)
    } catch (error) {
      resumeNeeded = true
      throw error
    }
  }

  /** Starts the executions of ticks claimed but not started (a crash, or a failure, came in between). */
  async function resumeUnstarted(): Promise<void> {
    for (const row of await store.schedules.unstarted()) {
      if (!running) return
      if (row.execution_id === null || (await store.executions.get(row.execution_id))) {
        await store.schedules.markStarted(row.workflow_id, row.schedule, row.tick)
        continue
      }
      const record = await deps.workflows.record(row.workflow_id).catch((error: unknown) => {
        if (error instanceof NotFoundError) return null
        throw error
      })
      const schedule = record?.definition.schedules?.find((s) => scheduleKey(s) === row.schedule)
      const prepared = record ? prepare(record, schedule?.input ?? {}) : { problem: 'the workflow was deleted' }
      if ('problem' in prepared) {
        logger.warn('scheduler: a resumed tick started nothing', {
          workflow_id: row.workflow_id,
          tick: row.tick,
          problem: prepared.problem,
        })
        await store.schedules.markStarted(row.workflow_id, row.schedule, row.tick)
        continue
      }
      await start(record!, row.schedule, row.tick, row.execution_id, prepared.input)
      logger.info('scheduler: resumed a tick', { workflow_id: row.workflow_id, tick: row.tick, execution_id: row.execution_id })
    }
  }

  /**
   * Follows a workflow's latest version. A schedule kept from the version before (same cron and time zone, enabled in
   * both) keeps its cursor; any other starts at `now`, so its first tick is the next one. Returns the new entries.
   */
  function follow(record: WorkflowRecord, now: number): Entry[] {
    const previous = new Map((entries.get(record.workflowId) ?? []).map((e) => [e.key, e]))
    const list = (record.definition.schedules ?? []).map((schedule): Entry => {
      const key = scheduleKey(schedule)
      const kept = previous.get(key)
      const cursor = kept && kept.schedule.enabled && schedule.enabled ? kept.cursor : now
      return { record, schedule, key, cursor, retryAt: kept?.retryAt ?? 0 }
    })
    if (list.length > 0) entries.set(record.workflowId, list)
    else entries.delete(record.workflowId)
    return list
  }

  /**
   * At start: follows every workflow, and runs the ticks missed since each schedule's last tick per its `catch_up`.
   * Ticks before the latest version was written are not counted as missed (that version did not exist yet); a
   * schedule that never ticked has missed none.
   */
  async function loadAll(): Promise<void> {
    const now = ctx.now()
    const last = new Map((await store.schedules.lastTicks()).map((t) => [`${t.workflow_id} ${t.schedule}`, Date.parse(t.tick)]))
    const missed: Array<{ entry: Entry; ticks: number[] }> = []
    // Every workflow is read once at start; only those with schedules are kept.
    for (let offset = 0; ; offset += 500) {
      const page = await store.workflows.list({ limit: 500, offset })
      for (const record of page.items) {
        for (const entry of follow(record, now)) {
          const lastTick = last.get(`${record.workflowId} ${entry.key}`)
          if (!entry.schedule.enabled || lastTick === undefined) continue
          const from = Math.max(lastTick, Date.parse(record.updatedAt))
          missed.push({ entry, ticks: catchUpTicks(entry.schedule, from, now) })
        }
      }
      if (page.items.length < 500 || offset + 500 >= page.total) break
    }
    for (const { entry, ticks } of missed) {
      for (const tick of ticks) {
        if (!running) return
        await fire(entry, tick)
      }
      if (ticks.length > 0) logger.info('scheduler: ran missed ticks', { workflow_id: entry.record.workflowId, count: ticks.length })
    }
  }

  /** The start-up work: resumes unstarted ticks, follows every workflow, runs missed ticks. */
  async function load(): Promise<void> {
    await resumeUnstarted()
    await loadAll()
    loaded = true
  }

  /** Takes every tick that fell due since each schedule's cursor (normally one). */
  async function wake(): Promise<void> {
    if (!loaded) return load()
    if (resumeNeeded) {
      resumeNeeded = false
      await resumeUnstarted()
    }
    const now = ctx.now()
    for (const list of [...entries.values()]) {
      for (const entry of list) {
        if (!entry.schedule.enabled || entry.retryAt > now) continue
        for (const tick of ticksBetween(entry.schedule, entry.cursor, now, MAX_CATCH_UP)) {
          if (!running) return
          try {
            await fire(entry, tick)
          } catch (error) {
            // The cursor stays before this tick, so it is taken again once the retry delay is over.
            logger.error('scheduler: a tick failed; trying again', { workflow_id: entry.record.workflowId, error: String(error) })
            entry.retryAt = now + RETRY_MS
            break
          }
          entry.cursor = tick
        }
        if (entry.retryAt <= now) entry.cursor = Math.max(entry.cursor, now)
      }
    }
  }

  /** (Re)arms the one timer for the nearest tick of every enabled schedule. */
  function arm(): void {
    if (timer !== null) deps.clock.clearTimeout(timer)
    timer = null
    if (!running) return
    const now = ctx.now()
    let soonest = loaded ? Infinity : now + RETRY_MS
    for (const list of entries.values()) {
      for (const entry of list) {
        if (!entry.schedule.enabled) continue
        const at = entry.retryAt > now ? entry.retryAt : nextTick(entry.schedule, entry.cursor)
        if (at !== null && at < soonest) soonest = at
      }
    }
    if (soonest === Infinity) return
    // Past due (the queue was busy): wake at once. A far tick: wake at the longest timer and look again.
    timer = after(deps.clock, Math.min(soonest - now, MAX_TIMER_MS), () => {
      timer = null
      void enqueue(wake)
    })
  }

  return {
    /** Starts following the schedules: resumes unstarted ticks, runs missed ones, arms the timer. */
    start: (): Promise<void> => {
      running = true
      return enqueue(load)
    },

    /** A workflow's new latest version, or its deletion (null): its schedules are replaced, or stop. */
    changed: async (workflowId: string, latest: WorkflowRecord | null): Promise<void> => {
      // Not running (an engine started with `schedules: false`): nothing to follow, but a deleted workflow's ticks go.
      if (!running) {
        if (!latest) await store.schedules.deleteWorkflow(workflowId)
        return
      }
      // Most workflows have no schedules, before or after: nothing to follow, nothing to wait for. (Once loaded, and
      // with no change of this workflow queued, `entries` says whether it had any.)
      if (loaded && !entries.has(workflowId) && !queued.has(workflowId) && !latest?.definition.schedules) {
        if (!latest) await store.schedules.deleteWorkflow(workflowId)
        return
      }
      queued.set(workflowId, (queued.get(workflowId) ?? 0) + 1)
      return enqueue(async () => {
        const left = queued.get(workflowId)! - 1
        if (left > 0) queued.set(workflowId, left)
        else queued.delete(workflowId)
        if (latest) follow(latest, ctx.now())
        else {
          entries.delete(workflowId)
          await store.schedules.deleteWorkflow(workflowId)
        }
      })
    },

    /** Resolves once the queue is empty (every tick that fell due so far is taken). */
    idle: async (): Promise<void> => {
      let seen: Promise<void>
      do {
        seen = queue
        await seen
      } while (seen !== queue)
    },

    /** Stops the timer; resolves once the step in progress is over. */
    stop: async (): Promise<void> => {
      running = false
      arm()
      await queue
    },

    /** `GET /api/workflows/{id}/schedules`: the latest version's schedules with their next 5 ticks and last tick. */
    listSchedules: async (workflowId: string): Promise<ScheduleInfo[]> => {
      const record = await deps.workflows.record(workflowId)
      const schedules = record.definition.schedules ?? []
      if (schedules.length === 0) return []
      const last = new Map((await store.schedules.lastTicks(workflowId)).map((t) => [t.schedule, t.tick]))
      const now = ctx.now()
      return schedules.map((s) => {
        const lastTick = last.get(scheduleKey(s))
        return {
          cron: s.cron,
          timezone: s.timezone,
          enabled: s.enabled,
          // A disabled schedule runs never: it has no next run times.
          next_run_times: s.enabled ? nextTicks(s, now, 5).map(iso) : [],
          ...(lastTick === undefined ? {} : { last_tick: lastTick }),
        }
      })
    },
  }
}
export type Scheduler = ReturnType<typeof createScheduler>
