/**
 * Cron schedules of a workflow (API.md "Schedules"): the stored shape, the cron arithmetic and the pure rule for which
 * ticks are due. croner is used as a calculator only (`nextRun` / `previousRuns` from a given instant, `paused: true`):
 * it never arms a timer of its own, so the engine's injectable clock drives every schedule.
 */
import { Cron } from 'croner'

export const CATCH_UP_POLICIES = ['skip', 'once', 'all'] as const
export type CatchUp = (typeof CATCH_UP_POLICIES)[number]

/** At most this many missed ticks run for one schedule under `catch_up: "all"` (the newest ones). */
export const MAX_CATCH_UP = 100

/** A schedule as stored in the definition: every field set. */
export type Schedule = {
  cron: string
  timezone: string
  input: Record<string, unknown>
  catch_up: CatchUp
  enabled: boolean
}

/** `GET /api/workflows/{id}/schedules`: one entry per schedule of the latest version. */
export type ScheduleInfo = {
  cron: string
  timezone: string
  enabled: boolean
  next_run_times: string[]
  last_tick?: string
}

/**
 * The name of a schedule within its workflow (schedule_ticks.schedule): its time zone and cron. Stable across versions
 * while the same cron and time zone stay, so a new version does not run a tick its predecessor ran. Time zone names
 * have no spaces, so the key splits back at its first space (`cronOfKey`).
 */
export const scheduleKey = (s: Pick<Schedule, 'cron' | 'timezone'>): string => `${s.timezone} ${s.cron}`
export const cronOfKey = (key: string): string => key.slice(key.indexOf(' ') + 1)

/** Parsed patterns, by key: the same few schedules are asked for their next tick over and over. */
const patterns = new Map<string, Cron>()

function cronFor(s: Pick<Schedule, 'cron' | 'timezone'>): Cron {
  const key = scheduleKey(s)
  let cron = patterns.get(key)
  if (!cron) {
    // `5-or-6-parts`: five fields, or six with seconds first; a seventh (years) field is refused.
    cron = new Cron(s.cron, { paused: true, timezone: s.timezone, mode: '5-or-6-parts' })
    if (patterns.size >= 1000) patterns.delete(patterns.keys().next().value!)
    patterns.set(key, cron)
  }
  return cron
}

/**
 * Why a cron (with its time zone) cannot be used, or undefined when it can. croner checks the pattern when it is
 * built and the time zone only when it computes a time, so both are exercised here; a pattern that never matches
 * (`0 0 30 2 *`) is refused too, since it would only ever be listed.
 */
export function cronProblem(cron: string, timezone: string): string | undefined {
  try {
    const pattern = new Cron(cron, { paused: true, timezone, mode: '5-or-6-parts' })
    if (pattern.nextRun() === null) return `never matches a time`
    return undefined
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    if (/timezone/i.test(message)) return `has a time zone that is not a valid IANA name: ${JSON.stringify(timezone)}`
    return `is not a valid cron expression (five fields, or six with seconds first): ${message.replace(/^CronPattern: /, '')}`
  }
}

/** The first tick strictly after `after` (ms), or null when there is none. */
export function nextTick(s: Schedule, after: number): number | null {
  return cronFor(s).nextRun(new Date(after))?.getTime() ?? null
}

/** The next `n` ticks strictly after `after`. */
export function nextTicks(s: Schedule, after: number, n: number): number[] {
  return cronFor(s)
    .nextRuns(n, new Date(after))
    .map((d) => d.getTime())
}

/**
 * The newest `limit` ticks in (after, upTo], oldest first. Walks forward from `after` (usually one step or none);
 * when the gap holds more than `limit` ticks it walks back from `upTo` instead, so a long gap costs `limit` steps,
 * not one per tick of the gap.
 */
export function ticksBetween(s: Schedule, after: number, upTo: number, limit: number): number[] {
  if (!(upTo > after) || limit <= 0) return []
  const cron = cronFor(s)
  const forward: number[] = []
  for (let t = cron.nextRun(new Date(after)); t !== null && t.getTime() <= upTo; t = cron.nextRun(t)) {
    forward.push(t.getTime())
    if (forward.length > limit) break
  }
  if (forward.length <= limit) return forward
  // previousRuns looks strictly before its reference (to the second): one ms past `upTo` includes a tick at `upTo`.
  const runs = cron.previousRuns(limit, new Date(upTo + 1))
  return runs
    .map((d) => d.getTime())
    .filter((t) => t > after && t <= upTo)
    .reverse()
}

/**
 * The missed ticks (after the last one taken, up to now) that run when a scheduler starts, per `catch_up`: none, the
 * latest one, or each of them (at most MAX_CATCH_UP, the newest).
 */
export function catchUpTicks(s: Schedule, after: number, now: number): number[] {
  switch (s.catch_up) {
    case 'skip':
      return []
    case 'once':
      return ticksBetween(s, after, now, 1)
    case 'all':
      return ticksBetween(s, after, now, MAX_CATCH_UP)
  }
}
