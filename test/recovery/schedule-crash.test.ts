import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import postgres from 'postgres'
import { afterAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/db/client.js'
import { createSqlStore } from '../../src/db/sql.store.js'

/**
 * Schedules across a real crash (API.md "Schedules"): a child process taking an every-second schedule is killed with
 * SIGKILL at a random moment of its ticks (possibly between a tick's row and its execution), a second process takes
 * over with `catch_up: all`. On PGlite (a data folder) and Postgres: every tick from the first to the last started
 * exactly one execution — none twice, none lost — and no tick is left unstarted.
 */

const CHILD = join(import.meta.dirname, 'schedule-crash-child.ts')
const PG_URL = process.env.DATABASE_URL
const scratch = mkdtempSync(join(tmpdir(), 'harmonia-schedule-crash-'))
const pgDatabases: string[] = []

afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true })
  if (PG_URL && pgDatabases.length > 0) {
    const admin = postgres(PG_URL, { max: 1, onnotice: () => {} })
    for (const db of pgDatabases) await admin.unsafe(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`)
    await admin.end()
  }
})

function run(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HARMONIA_LOG_LEVEL: 'error' },
  })
  const lines: string[] = []
  let stderr = ''
  const waiters: Array<() => void> = []
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line)
    for (const w of [...waiters]) w()
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const waitFor = (test: (lines: string[]) => boolean, what: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!test(lines)) return
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; stderr: ${stderr.slice(-2000)}`)), 60_000)
      waiters.push(check)
      check()
      void exited.then((code) => reject(new Error(`child exited (${code}) before ${what}; stderr: ${stderr.slice(-2000)}`)))
    })
  return { child, lines, exited, waitFor }
}

async function database(driver: 'pglite' | 'postgres'): Promise<string> {
  if (driver === 'pglite') return join(scratch, 'data')
  const name = `harmonia_schedule_crash_${process.pid}_${Date.now()}`
  const admin = postgres(PG_URL!, { max: 1, onnotice: () => {} })
  await admin.unsafe(`CREATE DATABASE "${name}"`)
  await admin.end()
  pgDatabases.push(name)
  const url = new URL(PG_URL!)
  url.pathname = `/${name}`
  return url.toString()
}

const drivers = [
  { name: 'pglite (data folder)', driver: 'pglite' as const, skip: false },
  { name: `postgres${PG_URL ? '' : ' — skipped: requires DATABASE_URL'}`, driver: 'postgres' as const, skip: !PG_URL },
]

for (const { name, driver, skip } of drivers) {
  describe.skipIf(skip)(`schedules across a crash on ${name}`, { timeout: 120_000 }, () => {
    it('SIGKILL while ticking, then a restart: every tick started exactly one execution, none lost', async () => {
      const db = await database(driver)
      const first = run(['first', db])
      await first.waitFor((l) => l.filter((x) => x.startsWith('RAN ')).length >= 3, 'three ticks')
      first.child.kill('SIGKILL')
      expect(await first.exited).toBe(null)
      const workflowId = first.lines.find((l) => l.startsWith('WORKFLOW '))!.slice(9)

      const second = run(['second', db])
      await second.waitFor((l) => l.includes('CLOSED'), 'the second process to close')
      expect(await second.exited).toBe(0)

      const store = createSqlStore(await openDatabase(db))
      try {
        const { items } = await store.executions.list({ limit: 1000, offset: 0, workflow_id: workflowId })
        const ticks = items.map((e) => Date.parse((e.metadata.schedule as { tick: string }).tick)).sort((a, b) => a - b)
        expect(new Set(ticks).size).toBe(ticks.length)
        // Consecutive seconds from the first tick to the last: the downtime's ticks were caught up, none twice.
        expect(ticks.length).toBeGreaterThanOrEqual(5)
        expect(ticks.at(-1)! - ticks[0]!).toBe((ticks.length - 1) * 1000)
        expect(await store.schedules.unstarted()).toEqual([])
        const last = await store.schedules.lastTicks(workflowId)
        expect(last.map((t) => Date.parse(t.tick))).toEqual([ticks.at(-1)])
        // Every execution a tick names exists (each tick row ↔ one execution).
        expect(new Set(items.map((e) => e.execution_id)).size).toBe(ticks.length)
      } finally {
        await store.close()
      }
    })
  })
}
