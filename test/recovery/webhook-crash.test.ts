import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import postgres from 'postgres'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/db/client.js'
import { createSqlStore } from '../../src/db/sql.store.js'
import { until } from '../support/async.js'
import { isGone } from '../support/process.js'
import { closeReceivers, hasValidSignature, startReceiver } from '../support/webhook-receiver.js'

/**
 * Webhook delivery survives a SIGKILL (issue 11): a real child process subscribes a real receiver (node:http, here)
 * that answers 500 three times, then 200; the child is killed with SIGKILL right after the third 500, while it waits
 * for its backoff. A new process on the same database (a PGlite data folder, a Postgres database) resumes from the
 * stored cursor: the receiver gets every event of the execution, in seq order, signed with the secret that was stored
 * sealed; an event may come twice (at least once), never out of order, none missing.
 */

const CHILD = join(import.meta.dirname, 'webhook-child.ts')
const SECRET = 'crash-suite-webhook-secret'
const PG_URL = process.env.DATABASE_URL
const scratch = mkdtempSync(join(tmpdir(), 'harmonia-webhook-crash-'))
const pgDatabases: string[] = []
const children: number[] = []

afterEach(async () => {
  for (const pid of children.splice(0)) if (!isGone(pid)) process.kill(pid, 'SIGKILL')
  await closeReceivers()
})
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
  children.push(child.pid!)
  const lines: string[] = []
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  createInterface({ input: child.stdout }).on('line', (line) => lines.push(line))
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  return {
    child,
    exited,
    async line(prefix: string): Promise<string> {
      await until(() => lines.some((l) => l.startsWith(prefix)), `${prefix} (stderr: ${stderr.slice(-1000)})`, 60_000)
      return lines.find((l) => l.startsWith(prefix))!
    },
  }
}

async function database(driver: 'pglite' | 'postgres'): Promise<string> {
  if (driver === 'pglite') return join(scratch, 'data')
  const name = `harmonia_webhook_crash_${process.pid}_${Date.now()}`
  const admin = postgres(PG_URL!, { max: 1, onnotice: () => {} })
  await admin.unsafe(`CREATE DATABASE "${name}"`)
  await admin.end()
  pgDatabases.push(name)
  const url = new URL(PG_URL!)
  url.pathname = `/${name}`
  return url.toString()
}

describe.each([
  { driver: 'pglite' as const, skip: false },
  { driver: 'postgres' as const, skip: !PG_URL },
])('$driver: webhook delivery across a SIGKILL', ({ driver, skip }) => {
  it.skipIf(skip)('a receiver that answers 500 three times, then 200, gets every event once it recovers, across the kill', async () => {
    const receiver = await startReceiver((_, n) => ({ status: n < 3 ? 500 : 200 }))
    const location = await database(driver)
    const first = run(['start', location, receiver.url])
    const executionId = (await first.line('READY ')).slice('READY '.length)
    await until(() => receiver.requests.length >= 3, 'three failed attempts', 30_000)
    first.child.kill('SIGKILL')
    await first.exited
    const beforeRestart = receiver.requests.length

    const second = run(['resume', location])
    await second.line('UP')
    await until(() => receiver.accepted().some((e) => e.type === 'workflow_completed'), 'the terminal event delivered', 30_000)
    second.child.kill('SIGKILL')
    await second.exited
    const all = await readEvents(location, executionId)

    expect(beforeRestart).toBe(3)
    expect(receiver.requests.slice(0, 3).every((r) => r.event.seq === 1 && r.status === 500)).toBe(true)
    const accepted = receiver.accepted()
    // At least once and in order: never a step back, and, duplicates dropped, exactly the event log.
    for (let i = 1; i < accepted.length; i++) expect(accepted[i]!.seq).toBeGreaterThanOrEqual(accepted[i - 1]!.seq)
    const unique = accepted.filter((e, i) => i === 0 || e.seq !== accepted[i - 1]!.seq)
    expect(unique).toEqual(all)
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1))
    expect(all.at(-1)!.type).toBe('workflow_completed')
    for (const delivery of receiver.requests) expect(hasValidSignature(delivery, SECRET)).toBe(true)
  })
})

/** The execution's events, read with the store alone (no engine: it would start a delivery worker of its own). */
async function readEvents(location: string, executionId: string) {
  const store = createSqlStore(await openDatabase(location))
  try {
    return await store.events.list(executionId)
  } finally {
    await store.close()
  }
}
