import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import postgres from 'postgres'
import { afterAll, describe, expect, it } from 'vitest'
import type { ExecutionEvent } from '../../src/model/events.js'
import type { Execution } from '../../src/model/resources.js'
import { BACKOFF_S, SLEEP_MS, expectedValues, type Scenario } from './crash-workflow.js'

/**
 * Crash recovery with a real child process killed by SIGKILL, on PGlite (a data folder) and on Postgres: the five
 * moments of the durability issue. After a restart every execution finishes with the right outputs; no completed task
 * is invoked again; a running one at most once more; backoff and sleep resume with the time that remains; a paused
 * execution stays paused; event seq stays gap-free.
 */

const CHILD = join(import.meta.dirname, 'crash-child.ts')
const PG_URL = process.env.DATABASE_URL
const scratch = mkdtempSync(join(tmpdir(), 'harmonia-crash-'))
const pgDatabases: string[] = []

afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true })
  if (PG_URL && pgDatabases.length > 0) {
    const admin = postgres(PG_URL, { max: 1, onnotice: () => {} })
    for (const db of pgDatabases) await admin.unsafe(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`)
    await admin.end()
  }
})

type Line = { at: number; text: string }

function run(args: string[]) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HARMONIA_LOG_LEVEL: 'error' },
  })
  const lines: Line[] = []
  const waiters: Array<{ test: (l: Line) => boolean; resolve: (l: Line) => void }> = []
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = { at: Date.now(), text }
    lines.push(line)
    for (const w of [...waiters]) {
      if (!w.test(line)) continue
      waiters.splice(waiters.indexOf(w), 1)
      w.resolve(line)
    }
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return {
    child,
    lines,
    exited,
    stderr: () => stderr,
    /** Resolves with the first line (seen or to come) that passes `test`; rejects after a deadline. */
    waitFor(test: (l: Line) => boolean, what: string, ms = 60_000): Promise<Line> {
      const seen = lines.find(test)
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; stderr: ${stderr.slice(-2000)}`)), ms)
        waiters.push({ test, resolve: (l) => (clearTimeout(timer), resolve(l)) })
        void exited.then((code) => reject(new Error(`child exited (${code}) before ${what}; stderr: ${stderr.slice(-2000)}`)))
      })
    },
  }
}

const eventOf = (l: Line): ExecutionEvent | null => (l.text.startsWith('EVENT ') ? (JSON.parse(l.text.slice(6)) as ExecutionEvent) : null)
const isEvent = (type: string, task?: string) => (l: Line) => {
  const e = eventOf(l)
  return e !== null && e.type === type && (task === undefined || e.task_id === task)
}

async function database(driver: 'pglite' | 'postgres', scenario: Scenario): Promise<string> {
  if (driver === 'pglite') return join(scratch, `${scenario}-data`)
  const name = `harmonia_crash_${scenario}_${process.pid}_${Date.now()}`
  const admin = postgres(PG_URL!, { max: 1, onnotice: () => {} })
  await admin.unsafe(`CREATE DATABASE "${name}"`)
  await admin.end()
  pgDatabases.push(name)
  const url = new URL(PG_URL!)
  url.pathname = `/${name}`
  return url.toString()
}

/** The kill moment of each scenario. */
const KILL_AT: Record<Scenario, (l: Line) => boolean> = {
  in_handler: (l) => l.text === 'IN_HANDLER',
  backoff: isEvent('task_retrying', 't06'),
  after_complete: isEvent('task_completed', 't06'),
  paused: (l) => l.text === 'PAUSED paused',
  sleep: isEvent('task_started', 't06'),
}

async function crashAndRecover(driver: 'pglite' | 'postgres', scenario: Scenario) {
  const db = await database(driver, scenario)
  const log = join(scratch, `${driver}-${scenario}.log`)
  const first = run(['start', db, log, scenario])
  const kill = await first.waitFor(KILL_AT[scenario], `the ${scenario} moment`)
  // A sleep persists its timer before it waits: let that commit land, then kill mid-sleep.
  if (scenario === 'sleep') await new Promise((r) => setTimeout(r, 400))
  first.child.kill('SIGKILL')
  expect(await first.exited).toBe(null)
  const before = first.lines.map(eventOf).filter((e): e is ExecutionEvent => e !== null)

  const second = run(['resume', db, log, scenario])
  const recovered = await second.waitFor((l) => l.text.startsWith('RECOVERED '), 'recovery')
  const doneLine = await second.waitFor((l) => l.text.startsWith('DONE '), 'the end of the execution', 90_000)
  expect(await second.exited).toBe(0)
  const done = JSON.parse(doneLine.text.slice(5)) as Execution & { events: ExecutionEvent[] }
  const invocations = readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [task, attempt, key] = l.split(' ')
      return { task: task!, attempt: Number(attempt), key: key! }
    })
  return { kill, before, recovered, second, done, invocations }
}

const drivers = [
  { name: 'pglite (data folder)', driver: 'pglite' as const, skip: false },
  { name: `postgres${PG_URL ? '' : ' — skipped: requires DATABASE_URL'}`, driver: 'postgres' as const, skip: !PG_URL },
]

for (const { name, driver, skip } of drivers) {
  describe.skipIf(skip)(`crash recovery on ${name}`, { timeout: 180_000 }, () => {
    const scenarios: Scenario[] = ['in_handler', 'backoff', 'after_complete', 'paused', 'sleep']
    it.each(scenarios)('SIGKILL at %s: the execution finishes right after a restart', async (scenario) => {
      const { kill, before, recovered, second, done, invocations } = await crashAndRecover(driver, scenario)

      // Every task finished with the right output.
      expect(done.status).toBe('completed')
      const expected = expectedValues()
      for (const [task, value] of Object.entries(expected))
        expect(done.task_executions[task], task).toMatchObject({ status: 'completed', output: { value } })

      // No completed task is invoked again; a running one at most once more, with the same idempotency key.
      const completedBefore = new Set(before.filter((e) => e.type === 'task_completed').map((e) => e.task_id!))
      const counts = new Map<string, number>()
      for (const i of invocations) counts.set(i.task, (counts.get(i.task) ?? 0) + 1)
      for (const task of Object.keys(expected)) {
        const n = counts.get(task) ?? 0
        if (completedBefore.has(task)) expect(n, `${task} completed before the kill`).toBe(task === 't06' && scenario === 'backoff' ? 2 : 1)
        else expect(n, `${task} invocations`).toBeLessThanOrEqual(2)
        expect(n, `${task} invoked`).toBeGreaterThanOrEqual(1)
      }
      for (const i of invocations) expect(i.key).toBe(`${done.execution_id}:${i.task}`)

      // Event seq stays gap-free across the crash.
      expect(done.events.map((e) => e.seq)).toEqual(done.events.map((_, i) => i + 1))

      const t06 = done.events.filter((e) => e.task_id === 't06')
      switch (scenario) {
        case 'in_handler': {
          expect(invocations.filter((i) => i.task === 't06').map((i) => i.attempt)).toEqual([1, 1])
          break
        }
        case 'after_complete':
          expect(invocations.filter((i) => i.task === 't06')).toHaveLength(1)
          break
        case 'backoff': {
          // The retry runs when the backoff that started before the crash ends, not a full backoff after the restart.
          const retrying = eventOf(kill)!
          const due = Date.parse(retrying.timestamp) + BACKOFF_S * 1000
          const secondStart = t06.find((e) => e.type === 'task_started' && e.data.attempt === 2)!
          const started = Date.parse(secondStart.timestamp)
          expect(started).toBeGreaterThanOrEqual(due - 50)
          expect(started).toBeLessThan(Math.max(due, recovered.at) + 1500)
          expect(invocations.filter((i) => i.task === 't06').map((i) => i.attempt)).toEqual([1, 2])
          break
        }
        case 'sleep': {
          const startedAt = Date.parse(eventOf(kill)!.timestamp)
          const completed = Date.parse(t06.find((e) => e.type === 'task_completed')!.timestamp)
          expect(completed).toBeGreaterThanOrEqual(startedAt + SLEEP_MS - 50)
          expect(completed).toBeLessThan(Math.max(startedAt + SLEEP_MS, recovered.at) + 1500)
          break
        }
        case 'paused': {
          expect(recovered.text).toContain('paused')
          expect(second.lines.some((l) => l.text === 'STILL paused')).toBe(true)
          break
        }
      }
    })
  })
}
