/**
 * The audit trail (API.md "Roles, audit and limits"), through a real listening server with admin, operator and viewer
 * tokens, on the in-memory store, PGlite and Postgres: each state-changing request leaves exactly one row in
 * `GET /api/audit` naming who (`<role>:<12 hex of the token's SHA-256>`, or `component:<name>` for a signed callback),
 * what (`execution.pause`, `workflow.update`, …), how (method, path, status) and on what (`target_id`: the id in the
 * path, or the created resource for a create); refusals are recorded with their status; the filters work; a viewer
 * may not read it. No token and no component secret appears in the trail, the logs (debug), any answer of the run, or
 * — on PGlite and Postgres — any row of any table.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Component } from '../../src/components/handler.js'
import type { DatabaseHandle } from '../../src/db/client.js'
import { createSqlStore } from '../../src/db/sql.store.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { createLogger } from '../../src/logger.js'
import type { AuditRecord } from '../../src/model/audit.js'
import { apiClient, type ApiAnswer } from '../support/api.js'
import { closeComponentServers, signed, startComponentServer, type ComponentServer } from '../support/component-server.js'
import { drivers, dumpTables } from '../support/db.js'
import { deferred, until } from '../support/harness.js'

const ADMIN = `admin-token-${randomBytes(8).toString('hex')}`
const OPERATOR = `operator-token-${randomBytes(8).toString('hex')}`
const VIEWER = `viewer-token-${randomBytes(8).toString('hex')}`
const SECRET = `component-secret-${randomUUID()}`
const TOKENS = [ADMIN, OPERATOR, VIEWER]

/** The actor a token is recorded as, computed here with node:crypto (not with src/). */
const actorOf = (role: string, token: string) => `${role}:${createHash('sha256').update(token).digest('hex').slice(0, 12)}`

type Setup = { title: string; skip: boolean; open?: () => Promise<DatabaseHandle> }
const setups: Setup[] = [{ title: 'memory', skip: false }, ...drivers.map((d) => ({ title: d.title, skip: d.skip, open: () => d.open() }))]

for (const setup of setups) {
  describe.skipIf(setup.skip)(`${setup.title}: the audit trail`, () => {
    let server: RunningServer
    let handle: DatabaseHandle | undefined
    let remote: ComponentServer
    const gate = deferred()
    const test: Component = { wait: () => gate.promise.then(() => ({ released: true })) }
    const logged: string[] = []
    const answers: ApiAnswer[] = []
    const component = `audited-${randomUUID().slice(0, 8)}`
    const ids = { workflow: '', execution: '', callbackExecution: '', checkpoint: '' }

    /** A client as `token` whose every answer is kept (to check afterwards what no answer contains). */
    const as = (token: string | undefined) => {
      const call = apiClient(() => server.url, token === undefined ? {} : { authorization: `Bearer ${token}` })
      return async (...args: Parameters<typeof call>) => {
        const answer = await call(...args)
        answers.push(answer)
        return answer
      }
    }
    const admin = as(ADMIN)
    const operator = as(OPERATOR)
    const viewer = as(VIEWER)

    const trail = async (query = ''): Promise<AuditRecord[]> => {
      const answer = await admin('GET', `/api/audit?limit=1000${query}`)
      expect(answer.status, answer.text).toBe(200)
      expect(answer.body.total).toBe(answer.body.items.length)
      return answer.body.items as AuditRecord[]
    }
    /** The one row of `action` on `target` (answered below 400: refusals are checked apart). */
    const only = (rows: AuditRecord[], action: string, target: string) => {
      const found = rows.filter((r) => r.action === action && r.target_id === target && r.status < 400)
      expect(found, `${action} on ${target}: ${JSON.stringify(rows, null, 1)}`).toHaveLength(1)
      return found[0]!
    }

    beforeAll(async () => {
      remote = await startComponentServer({ action: () => ({ status: 202, body: {} }) })
      handle = await setup.open?.()
      server = await startServer({
        port: 0,
        hostname: '127.0.0.1',
        tokens: [`admin:${ADMIN}`, `operator:${OPERATOR}`, `viewer:${VIEWER}`],
        graceMs: 0,
        logger: createLogger({ level: 'debug', pretty: false, write: (line) => logged.push(line) }),
        harmoniaOptions: { ...(handle ? { store: createSqlStore(handle) } : { database: 'memory:store' }), components: { test } },
      })

      // admin: a workflow, its update, a component with a secret, a workflow calling it.
      const body = { name: 'audited', tasks: [{ id: 'w', component: 'test', action: 'wait' }] }
      const workflow = await admin('POST', '/api/workflows', body)
      expect(workflow.status, workflow.text).toBe(201)
      ids.workflow = workflow.body.workflow_id
      expect((await admin('PUT', `/api/workflows/${ids.workflow}`, { ...body, description: 'updated' })).status).toBe(200)
      const registered = await admin('POST', '/api/components', { name: component, url: remote.url, secret: SECRET })
      expect(registered.status, registered.text).toBe(201)
      const callbackWorkflow = await admin('POST', '/api/workflows', {
        name: 'audited callback',
        tasks: [{ id: 'later', component, action: 'later' }],
      })
      expect(callbackWorkflow.status, callbackWorkflow.text).toBe(201)

      // operator: start, checkpoint, pause, cancel.
      const started = await operator('POST', '/api/executions', { workflow_id: ids.workflow })
      expect(started.status, started.text).toBe(201)
      ids.execution = started.body.execution_id
      await until(async () => (await operator('GET', `/api/executions/${ids.execution}`)).body.task_executions?.w?.status === 'running')
      const checkpoint = await operator('POST', '/api/checkpoints', { execution_id: ids.execution })
      expect(checkpoint.status, checkpoint.text).toBe(201)
      ids.checkpoint = checkpoint.body.checkpoint_id
      expect((await operator('POST', `/api/executions/${ids.execution}/pause`)).status).toBe(202)
      expect((await operator('POST', `/api/executions/${ids.execution}/cancel`)).status).toBe(202)

      // A component answers 202, then calls back signed with its secret (no bearer token).
      const second = await operator('POST', '/api/executions', { workflow_id: callbackWorkflow.body.workflow_id })
      ids.callbackExecution = second.body.execution_id
      await until(() => remote.calls.length === 1, 'the component called')
      const raw = JSON.stringify({ output: { done: true } })
      const callback = await as(undefined)('POST', `/api/executions/${ids.callbackExecution}/tasks/later/complete`, undefined, {
        raw,
        headers: signed(SECRET, raw),
      })
      expect(callback.status, callback.text).toBe(200)
      await server.harmonia.waitForExecution(ids.callbackExecution)

      // Refusals: roles without the right (403), no token (401).
      expect((await viewer('POST', '/api/workflows', body)).status).toBe(403)
      expect((await operator('PUT', `/api/workflows/${ids.workflow}`, body)).status).toBe(403)
      expect((await as(undefined)('POST', `/api/executions/${ids.execution}/resume`)).status).toBe(401)
    })

    afterAll(async () => {
      gate.resolve()
      await server?.close() // closes the store, and with it the test database
      await closeComponentServers()
    })

    it('records each state-changing request once, with actor, action, method, path, target and status', async () => {
      const rows = await trail()
      const adminActor = actorOf('admin', ADMIN)
      const operatorActor = actorOf('operator', OPERATOR)
      const expected: [action: string, target: string, actor: string, method: string, path: string, status: number][] = [
        ['workflow.create', ids.workflow, adminActor, 'POST', '/api/workflows', 201],
        ['workflow.update', ids.workflow, adminActor, 'PUT', `/api/workflows/${ids.workflow}`, 200],
        ['component.create', component, adminActor, 'POST', '/api/components', 201],
        ['execution.start', ids.execution, operatorActor, 'POST', '/api/executions', 201],
        ['checkpoint.create', ids.checkpoint, operatorActor, 'POST', '/api/checkpoints', 201],
        ['execution.pause', ids.execution, operatorActor, 'POST', `/api/executions/${ids.execution}/pause`, 202],
        ['execution.cancel', ids.execution, operatorActor, 'POST', `/api/executions/${ids.execution}/cancel`, 202],
      ]
      for (const [action, target, actor, method, path, status] of expected) {
        expect(only(rows, action, target), action).toMatchObject({ actor, method, path, status })
      }
      expect(adminActor).toMatch(/^admin:[0-9a-f]{12}$/)
      for (const row of rows) {
        expect(row.audit_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
        expect(row.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
        expect(Object.keys(row).sort()).toEqual(['action', 'actor', 'audit_id', 'method', 'path', 'status', 'target_id', 'time'])
      }
      // Reads are not audited: the GETs of this run (polling, the trail itself) left no row.
      expect(rows.filter((r) => r.method === 'GET')).toEqual([])
      // Newest first.
      expect(rows.map((r) => r.time)).toEqual(
        rows
          .map((r) => r.time)
          .sort()
          .reverse(),
      )
    })

    it('names a signed callback by its component', async () => {
      const rows = await trail()
      expect(only(rows, 'task.complete', ids.callbackExecution)).toMatchObject({
        actor: `component:${component}`,
        method: 'POST',
        path: `/api/executions/${ids.callbackExecution}/tasks/later/complete`,
        status: 200,
      })
      expect(only(rows, 'execution.start', ids.callbackExecution).actor).toBe(actorOf('operator', OPERATOR))
    })

    it('records refused requests with their status (and who was refused)', async () => {
      const rows = await trail()
      const refusedCreate = rows.filter((r) => r.action === 'workflow.create' && r.status === 403)
      expect(refusedCreate).toEqual([expect.objectContaining({ actor: actorOf('viewer', VIEWER), method: 'POST', path: '/api/workflows' })])
      expect(rows.filter((r) => r.action === 'workflow.update' && r.status === 403)).toEqual([
        expect.objectContaining({ actor: actorOf('operator', OPERATOR), target_id: ids.workflow }),
      ])
      expect(rows.filter((r) => r.action === 'execution.resume')).toEqual([
        expect.objectContaining({ actor: 'unauthenticated', target_id: ids.execution, status: 401 }),
      ])
    })

    it('filters by target_id and by actor', async () => {
      const ofExecution = await trail(`&target_id=${ids.execution}`)
      expect(ofExecution.map((r) => r.action).sort()).toEqual([
        'execution.cancel',
        'execution.pause',
        'execution.resume',
        'execution.start',
      ])
      expect(ofExecution.every((r) => r.target_id === ids.execution)).toBe(true)
      const ofComponent = await trail(`&target_id=${component}`)
      expect(ofComponent.map((r) => r.action)).toEqual(['component.create'])

      const operatorActor = actorOf('operator', OPERATOR)
      const byOperator = await trail(`&actor=${encodeURIComponent(operatorActor)}`)
      expect(byOperator.every((r) => r.actor === operatorActor)).toBe(true)
      expect(byOperator.map((r) => r.action).sort()).toEqual([
        'checkpoint.create',
        'execution.cancel',
        'execution.pause',
        'execution.start',
        'execution.start',
        'workflow.update',
      ])
      const both = await trail(`&actor=${encodeURIComponent(operatorActor)}&target_id=${ids.execution}`)
      expect(both.map((r) => r.action).sort()).toEqual(['execution.cancel', 'execution.pause', 'execution.start'])
      expect(await trail('&actor=nobody')).toEqual([])
      const paged = await admin('GET', '/api/audit?limit=2&offset=1')
      expect(paged.body).toMatchObject({ limit: 2, offset: 1, total: (await trail()).length })
      expect(paged.body.items).toHaveLength(2)
    })

    it('is for admins only: a viewer and an operator get 403 naming the admin role', async () => {
      for (const client of [viewer, operator]) {
        const refused = await client('GET', '/api/audit')
        expect(refused.status).toBe(403)
        expect(refused.type).toBe('application/problem+json')
        expect(refused.body.detail).toMatch(/needs the admin role/)
      }
      expect((await as(undefined)('GET', '/api/v1/audit')).status).toBe(401)
      expect((await admin('GET', '/api/v1/audit')).status).toBe(200)
    })

    it('never holds a token or a secret: not in the trail, the logs, the answers, nor any table', async () => {
      const rows = JSON.stringify(await trail())
      const log = logged.join('\n')
      // The captures work: the trail is logged, the secret was used (the component got a signed call).
      expect(log).toContain('"audit"')
      expect(log).toContain(ids.execution)
      expect(remote.calls[0]!.headers['x-harmonia-signature']).toMatch(/^sha256=[0-9a-f]{64}$/)
      expect(answers.length).toBeGreaterThan(20)
      const texts = answers.map((a) => a.text).join('\n')
      for (const value of [...TOKENS, SECRET]) {
        expect(rows).not.toContain(value)
        expect(log).not.toContain(value)
        expect(texts).not.toContain(value)
      }
      if (!handle) return
      const dump = await dumpTables(handle.db)
      const all = JSON.stringify(dump)
      expect(Object.keys(dump)).toEqual(expect.arrayContaining(['public.audit_log', 'public.components', 'public.executions']))
      expect(dump['public.audit_log']!.length).toBeGreaterThan(10)
      expect(dump['public.components']!.join('\n')).toContain('"secret":"v1:')
      for (const value of [...TOKENS, SECRET]) expect(all).not.toContain(value)
    })
  })
}
