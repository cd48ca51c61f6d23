/**
 * Component secrets at rest (API.md "Roles, audit and limits"; src/components/secret-box.ts), on PGlite and Postgres,
 * through real listening servers restarted on the same database: a secret registered over the API is stored sealed
 * (`v1:…`, never the secret) and still signs the calls (a component server checks the HMAC with node:crypto); a start
 * with the wrong key stops with a message naming HARMONIA_SECRET_KEY, the right key works; `rotateSecrets` and the
 * CLI `harmonia secrets rotate` (a real child process) re-seal every secret, after which only the new key opens them.
 * Without any key, Postgres refuses to store a secret (422 naming `secret`), and PGlite keeps a generated key in its
 * data folder (`secret.key`, mode 0600), reused on the next start.
 */
import { createHmac, randomUUID } from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import postgres from 'postgres'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { generateSecretKey } from '../../src/components/secret-box.js'
import { createHarmonia } from '../../src/harmonia.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { apiClient } from '../support/api.js'
import {
  closeComponentServers,
  startComponentServer,
  type ComponentCall,
  type ComponentServer,
  type Reply,
} from '../support/component-server.js'
import { drivers, dumpTables, rows, type EmptyDatabase, type TestDriver } from '../support/db.js'
import { until } from '../support/async.js'
import { cleanEnv, startNode, stopAll } from '../support/processes.js'

const SECRET = `at-rest-secret-${randomUUID()}`
const COMPONENT = 'sealed'

/** Answers 200 only to a call signed with SECRET (checked here with node:crypto), 401 otherwise (a failure for good). */
function verify(call: ComponentCall): Reply {
  const timestamp = String(call.headers['x-harmonia-timestamp'])
  const expected = `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${call.raw}`).digest('hex')}`
  return call.headers['x-harmonia-signature'] === expected
    ? { status: 200, body: { output: { verified: true } } }
    : { status: 401, body: { error: { message: 'bad signature' } } }
}

/** HARMONIA_SECRET_KEY (vitest.config.ts sets a test key for every test) removed for one test, then put back. */
const envKey = process.env.HARMONIA_SECRET_KEY
const withoutEnvKey = () => delete process.env.HARMONIA_SECRET_KEY
afterEach(() => {
  if (envKey === undefined) delete process.env.HARMONIA_SECRET_KEY
  else process.env.HARMONIA_SECRET_KEY = envKey
})

let server: RunningServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
  await stopAll()
})
afterAll(closeComponentServers)

/** One database (a PGlite folder or a Postgres database) that engines are started on, one after the other. */
function onDatabase(driver: TestDriver) {
  let database: EmptyDatabase
  let component: ComponentServer

  const call = apiClient(() => server!.url)
  const start = async (secretKey: string | undefined) => {
    server = await startServer({
      port: 0,
      hostname: '127.0.0.1',
      tokens: [],
      graceMs: 0,
      harmoniaOptions: { database: database.location, ...(secretKey === undefined ? {} : { secretKey }) },
    })
    return server
  }
  const stop = async () => {
    await server?.close()
    server = undefined
  }
  /** Runs a workflow calling the component: completes only if the call was signed with SECRET. */
  const runSigned = async () => {
    const workflow = await call('POST', '/api/workflows', { name: 'signed', tasks: [{ id: 's', component: COMPONENT, action: 'check' }] })
    expect(workflow.status, workflow.text).toBe(201)
    const started = await call('POST', '/api/executions', { workflow_id: workflow.body.workflow_id })
    const done = await server!.harmonia.waitForExecution(started.body.execution_id as string)
    expect(done.task_executions.s, JSON.stringify(done.task_executions.s)).toMatchObject({
      status: 'completed',
      output: { verified: true },
    })
  }
  /** The `components.secret` column, read with SQL while no engine has the database open (PGlite is single-process). */
  const stored = async (): Promise<{ secret: string | null; dump: string }> => {
    const handle = await database.open()
    try {
      const [row] = rows<{ secret: string | null }>(await handle.db.execute(sql`SELECT secret FROM components WHERE name = ${COMPONENT}`))
      return { secret: row?.secret ?? null, dump: JSON.stringify(await dumpTables(handle.db)) }
    } finally {
      await handle.close()
    }
  }

  beforeAll(async () => {
    database = await driver.empty()
    component = await startComponentServer({ action: verify })
  })
  afterAll(async () => {
    await database?.dispose()
  })

  return {
    get location() {
      return database.location
    },
    start,
    stop,
    runSigned,
    stored,
    register: (secret: string | null = SECRET) =>
      call('POST', '/api/components', { name: COMPONENT, url: component.url, ...(secret === null ? {} : { secret }) }),
    call,
  }
}

/** The CLI, as a real child process on the database the servers use (none running). */
async function rotateWithCli(driver: TestDriver, location: string, from: string, to: string) {
  const env = cleanEnv(driver.name === 'postgres' ? { DATABASE_URL: location } : { HARMONIA_DATA_DIR: location })
  const child = startNode(['bin/harmonia.js', 'secrets', 'rotate', '--from', from, '--to', to], env)
  return { code: await child.exited, output: child.output() }
}

for (const driver of drivers) {
  describe.skipIf(driver.skip)(`${driver.title}: component secrets at rest`, () => {
    const db = onDatabase(driver)
    const [KEY1, KEY2, KEY3, WRONG] = [generateSecretKey(), generateSecretKey(), generateSecretKey(), generateSecretKey()]
    const sealed: string[] = []

    it('stores the secret sealed (v1:…), and the component still gets signed calls', async () => {
      await db.start(KEY1)
      const registered = await db.register()
      expect(registered.status, registered.text).toBe(201)
      expect(registered.body).toMatchObject({ name: COMPONENT, has_secret: true })
      expect(registered.text).not.toContain(SECRET)
      await db.runSigned()
      await db.stop()

      const { secret, dump } = await db.stored()
      expect(secret).toMatch(/^v1:[A-Za-z0-9+/]+=*$/)
      expect(secret).not.toContain(SECRET)
      expect(dump).not.toContain(SECRET)
      sealed.push(secret!)
    })

    it('refuses a start with the wrong key, naming HARMONIA_SECRET_KEY; starts with the right one', async () => {
      await expect(createHarmonia({ database: db.location, secretKey: WRONG })).rejects.toThrow(/HARMONIA_SECRET_KEY/)
      await expect(createHarmonia({ database: db.location, secretKey: WRONG })).rejects.toThrow(new RegExp(`component ${COMPONENT}`))
      await db.start(KEY1)
      await db.runSigned()
    })

    it('rotateSecrets(NEW) re-seals every secret: NEW opens them, the old key no longer does', async () => {
      await db.start(KEY1)
      expect(await server!.harmonia.rotateSecrets(KEY2)).toBe(1)
      // The running engine goes on with the new key.
      await db.runSigned()
      await db.stop()
      const { secret } = await db.stored()
      expect(secret).toMatch(/^v1:/)
      expect(secret).not.toBe(sealed.at(-1))
      sealed.push(secret!)

      await expect(createHarmonia({ database: db.location, secretKey: KEY1 })).rejects.toThrow(/HARMONIA_SECRET_KEY/)
      await db.start(KEY2)
      await db.runSigned()
    })

    it('harmonia secrets rotate --from OLD --to NEW (the CLI, as a child process) does the same', async () => {
      const refused = await rotateWithCli(driver, db.location, WRONG, KEY3)
      expect(refused.code, refused.output).not.toBe(0)
      expect(refused.output).toMatch(/HARMONIA_SECRET_KEY/)
      expect((await db.stored()).secret).toBe(sealed.at(-1))

      const rotated = await rotateWithCli(driver, db.location, KEY2, KEY3)
      expect(rotated.code, rotated.output).toBe(0)
      expect(rotated.output).toContain('re-sealed 1 component secret under the new key')
      for (const key of [KEY2, KEY3]) expect(rotated.output).not.toContain(key)
      const { secret, dump } = await db.stored()
      expect(secret).toMatch(/^v1:/)
      expect(sealed).not.toContain(secret)
      expect(dump).not.toContain(SECRET)

      await expect(createHarmonia({ database: db.location, secretKey: KEY2 })).rejects.toThrow(/HARMONIA_SECRET_KEY/)
      await db.start(KEY3)
      await db.runSigned()
    })

    if (driver.name === 'postgres') {
      it('without any key, a start that finds stored secrets stops naming HARMONIA_SECRET_KEY, leaving no connection open', async () => {
        withoutEnvKey()
        await expect(createHarmonia({ database: db.location })).rejects.toThrow(/set HARMONIA_SECRET_KEY/)
        await expect(createHarmonia({ database: db.location, secretKey: WRONG })).rejects.toThrow(/HARMONIA_SECRET_KEY/)
        // A refused start closes its pool (else a CLI that failed, like the rotation above, would never exit).
        const maintenance = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} })
        try {
          const name = new URL(db.location).pathname.slice(1)
          const connections = async () =>
            (await maintenance<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ${name}`)[0]!.n
          await until(async () => (await connections()) === 0, 'the refused starts to close their connections')
        } finally {
          await maintenance.end()
        }
      })
    }
  })
}

describe.skipIf(drivers[1]!.skip)(`${drivers[1]!.title}: no key at all`, () => {
  const db = onDatabase(drivers[1]!)

  it('refuses to store a secret (422 naming secret and HARMONIA_SECRET_KEY); a component without one is fine', async () => {
    withoutEnvKey()
    await db.start(undefined)
    const refused = await db.register()
    expect(refused.status, refused.text).toBe(422)
    expect(refused.type).toBe('application/problem+json')
    expect(refused.body.errors).toEqual([{ path: 'secret', message: expect.stringContaining('HARMONIA_SECRET_KEY') }])
    expect(refused.text).not.toContain(SECRET)
    expect((await db.call('GET', `/api/components/${COMPONENT}`)).status).toBe(404)
    const plain = await db.register(null)
    expect(plain.status, plain.text).toBe(201)
    expect(plain.body.has_secret).toBe(false)
    const replaced = await db.call('PUT', `/api/components/${COMPONENT}`, { url: 'http://127.0.0.1:9/', secret: SECRET })
    expect(replaced.status, replaced.text).toBe(422)
    expect(replaced.body.errors[0].path).toBe('secret')
  })
})

describe(`${drivers[0]!.title}: no key given`, () => {
  const db = onDatabase(drivers[0]!)

  it('generates secret.key in the data folder (mode 0600) on first start and reuses it on the next', async () => {
    withoutEnvKey()
    const file = join(db.location, 'secret.key')
    expect(existsSync(file)).toBe(false)
    await db.start(undefined)
    expect(existsSync(file)).toBe(true)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const key = readFileSync(file, 'utf8')
    expect(Buffer.from(key.trim(), 'base64')).toHaveLength(32)
    expect((await db.register()).status).toBe(201)
    await db.runSigned()
    await db.stop()
    expect((await db.stored()).secret).toMatch(/^v1:/)

    await db.start(undefined)
    expect(readFileSync(file, 'utf8')).toBe(key)
    await db.runSigned()

    // A rotation replaces the key kept in the folder, and the next start opens the secrets with it.
    const next = generateSecretKey()
    expect(await server!.harmonia.rotateSecrets(next)).toBe(1)
    await db.stop()
    expect(readFileSync(file, 'utf8').trim()).toBe(next)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    await db.start(undefined)
    await db.runSigned()
  })
})
