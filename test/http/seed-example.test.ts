import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { until } from '../support/async.js'
import { drivers, type EmptyDatabase } from '../support/db.js'
import { cleanEnv, freePort, request, ROOT, startNode, stop, stopAll, type Child } from '../support/processes.js'

/**
 * The seed's basic example ("Client Usage"), `npm start` style: the real server (src/main.ts) as a child process with
 * examples/tekton.yaml (ergon = the shell built-in, prometheus = a remote component) and the example component
 * examples/components/prometheus.mjs as another child process, both on 127.0.0.1, on PGlite and on Postgres. The
 * example's config names prometheus at port 8030: the suite runs it on a free port and uses a copy of the config that
 * differs only in that port (the example itself stays as it is).
 */

const SECRET = `prometheus-${randomBytes(16).toString('hex')}`
const scratch = mkdtempSync(join(tmpdir(), 'harmonia-seed-'))
let prometheusUrl = ''
let config = ''

beforeAll(async () => {
  const component = startNode([join(ROOT, 'examples/components/prometheus.mjs')], cleanEnv({ PORT: '0', PROMETHEUS_SECRET: SECRET }))
  prometheusUrl = (await component.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 'the prometheus component'))[1]!
  const example = readFileSync(join(ROOT, 'examples/tekton.yaml'), 'utf8')
  expect(example).toContain('url: http://127.0.0.1:8030\n')
  config = join(scratch, 'tekton.yaml')
  writeFileSync(config, example.replace('url: http://127.0.0.1:8030\n', `url: ${prometheusUrl}\n`))
})

afterAll(async () => {
  await stopAll()
  rmSync(scratch, { recursive: true, force: true })
})

/** The seed's workflow, as its Python client creates it. */
const seedWorkflow = {
  name: 'example_workflow',
  description: 'Example workflow',
  tasks: [
    { id: 'task1', component: 'ergon', action: 'execute_command', input: { command: 'echo Hello World' } },
    {
      id: 'task2',
      component: 'prometheus',
      action: 'analyze_results',
      input: { data: '${tasks.task1.output.result}' },
      depends_on: ['task1'],
    },
  ],
}

for (const driver of drivers) {
  describe.skipIf(driver.skip)(`${driver.title}: the seed's example through a started server`, { timeout: 120_000 }, () => {
    let database: EmptyDatabase | undefined
    let server: Child | undefined
    let base = ''

    beforeAll(async () => {
      database = await driver.empty()
      const port = await freePort()
      base = `http://127.0.0.1:${port}`
      server = startNode(
        [join(ROOT, 'src/main.ts')],
        cleanEnv({
          HARMONIA_CONFIG: config,
          HARMONIA_ENABLE_SHELL: '1',
          PROMETHEUS_SECRET: SECRET,
          HARMONIA_PORT: String(port),
          // The most talkative level: a secret that reached any log line would show below.
          HARMONIA_LOG_LEVEL: 'debug',
          ...(driver.name === 'pglite' ? { HARMONIA_DATA_DIR: database.location } : { DATABASE_URL: database.location }),
        }),
      )
      await server.waitFor(/Harmonia listening on http:\/\/\S+/, 'the server to listen')
    })

    afterAll(async () => {
      if (server) await stop(server)
      await database?.dispose()
    })

    it('runs the workflow to completion: the shell output flows into the signed remote call', async () => {
      const created = await request(`${base}/api/workflows`, { body: seedWorkflow })
      expect(created.status, created.text).toBe(201)
      const started = await request(`${base}/api/executions`, { body: { workflow_id: created.body.workflow_id } })
      expect(started.status, started.text).toBe(201)
      const id = started.body.execution_id as string

      let execution: any
      await until(
        async () => {
          execution = (await request(`${base}/api/executions/${id}`)).body
          return ['completed', 'failed', 'canceled'].includes(execution.status)
        },
        'the execution to finish',
        60_000,
      )
      expect(execution.status, JSON.stringify(execution)).toBe('completed')
      expect(execution.task_executions.task1).toMatchObject({
        status: 'completed',
        output: { exit_code: 0, stdout: 'Hello World\n', stderr: '', result: 'Hello World' },
      })
      expect(execution.task_executions.task1.output).toEqual({ exit_code: 0, stdout: 'Hello World\n', stderr: '', result: 'Hello World' })
      // The example component answers 401 to a call whose signature it cannot verify: this output proves it could.
      expect(execution.task_executions.task2).toMatchObject({
        status: 'completed',
        output: { received: 'Hello World', analysis: '2 words', length: 11 },
      })
      const history = await request(`${base}/api/executions/${id}/history`)
      expect(history.body.events.map((e: { type: string }) => e.type)).toEqual([
        'workflow_started',
        'task_started',
        'task_completed',
        'task_started',
        'task_completed',
        'workflow_completed',
      ])
      for (const answer of [history, await request(`${base}/api/executions/${id}`)]) expect(answer.text).not.toContain(SECRET)
    })

    it('lists the config components, ergon as the shell built-in and prometheus with a secret it never shows', async () => {
      const listed = await request(`${base}/api/components`)
      expect(listed.status).toBe(200)
      expect(listed.text).not.toContain(SECRET)
      const byName = new Map((listed.body as Array<{ name: string }>).map((c) => [c.name, c]))
      expect(byName.get('ergon')).toMatchObject({
        name: 'ergon',
        source: 'config',
        url: null,
        has_secret: false,
        metadata: { alias_of: 'shell' },
      })
      expect(byName.get('prometheus')).toMatchObject({
        name: 'prometheus',
        source: 'config',
        url: prometheusUrl,
        actions: ['analyze_results'],
        has_secret: true,
        timeout: 30,
        metadata: { team: 'tekton' },
      })
      expect(byName.get('prometheus')).not.toHaveProperty('secret')
      expect(byName.get('shell')).toMatchObject({ source: 'builtin', enabled: true })
      const one = await request(`${base}/api/components/prometheus`)
      expect(one.status).toBe(200)
      expect(one.text).not.toContain(SECRET)
      expect(one.body).toMatchObject({ name: 'prometheus', has_secret: true })
    })

    it('refuses a workflow naming an unknown component with 422 at tasks[0].component, saying how to make it known', async () => {
      const refused = await request(`${base}/api/workflows`, {
        body: { name: 'unknown', tasks: [{ id: 'a', component: 'hephaestus', action: 'build', input: {} }] },
      })
      expect(refused.status, refused.text).toBe(422)
      const error = (refused.body.errors as Array<{ path: string; message: string }>).find((e) => e.path === 'tasks[0].component')
      expect(error, refused.text).toBeDefined()
      expect(error!.message).toContain('hephaestus')
      expect(error!.message).toContain('POST /api/components')
      expect(error!.message).toContain('HARMONIA_CONFIG')
      expect((await request(`${base}/api/workflows?filter=unknown`)).body.total).toBe(0)
    })

    it('never writes the secret to its stdout or stderr, through a graceful shutdown', async () => {
      expect(await stop(server!, 'SIGTERM')).toBe(0)
      expect(server!.output()).toContain('Harmonia listening on')
      expect(server!.output()).not.toContain(SECRET)
    })
  })
}
