import { randomUUID } from 'node:crypto'
import { afterEach, expect, it } from 'vitest'
import { createHarmonia, type Harmonia } from '../../src/harmonia.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { apiClient, type ApiAnswer } from '../support/api.js'
import { closeComponentServers, hmac, signed, startComponentServer } from '../support/component-server.js'
import { describeEachStore, testStore, until } from '../support/harness.js'

/**
 * Signatures on the receiving side (API.md "Callbacks"): a component that answered 202 settles its task through
 * `POST /api/executions/{id}/tasks/{task}/complete|fail`, signed with its secret, or — for a component without one —
 * with a bearer token. Every refused callback is 401 problem+json and changes nothing. A real server, real
 * component servers, the wall clock (signature timestamps are checked against it).
 */

const PROBLEM = 'application/problem+json'
const TOKEN = 'tok-callbacks-1'

let server: RunningServer | undefined
let harmonia: Harmonia
const call = apiClient(() => server!.url)
const unique = (base: string) => `${base}-${randomUUID().slice(0, 8)}`

afterEach(async () => {
  await server?.close()
  server = undefined
  await harmonia?.close()
  await closeComponentServers()
})

async function serve(tokens: string[] = []) {
  harmonia = await createHarmonia({ store: testStore(), recover: false, enableShell: false, publicUrl: () => server?.url })
  server = await startServer({ harmonia, port: 0, hostname: '127.0.0.1', tokens })
}

/** A component answering every call with 202, registered in process with `secret` (or none). */
async function waitingComponent(secret?: string) {
  const remote = await startComponentServer({ action: () => ({ status: 202, body: { accepted: true } }) })
  const name = unique('async')
  await harmonia.createComponent({ name, url: remote.url, ...(secret === undefined ? {} : { secret }) })
  return { name, remote }
}

/** Starts a workflow of one task per component and waits until each component has been called. */
async function startWaiting(components: Array<{ name: string; remote: { calls: unknown[] } }>, ids: string[]) {
  const wf = await harmonia.createWorkflow({
    name: unique('callbacks'),
    tasks: components.map((c, i) => ({ id: ids[i]!, component: c.name, action: 'run' })),
  })
  const { execution_id } = await harmonia.startExecution({ workflow_id: wf.workflow_id })
  await until(() => components.every((c) => c.remote.calls.length === 1), 'every component called')
  return execution_id
}

/** POSTs a callback: `raw` exactly as given, with `headers`. */
function callback(id: string, task: string, kind: 'complete' | 'fail', raw: string, headers: Record<string, string> = {}) {
  return call('POST', `/api/executions/${id}/tasks/${task}/${kind}`, undefined, { raw, headers })
}

function expectRefused(answer: ApiAnswer, what: string) {
  expect(answer.status, what).toBe(401)
  expect(answer.type, what).toContain(PROBLEM)
  expect(answer.body, what).toMatchObject({ status: 401, title: 'Unauthorized' })
}

/** The task still waits: running, one attempt, no event settled it, and the component was not called again. */
async function expectStillWaiting(id: string, task: string, remote: { calls: unknown[] }) {
  await harmonia.flush()
  const execution = await harmonia.getExecution(id)
  expect(execution.status).toBe('running')
  expect(execution.task_executions[task]).toMatchObject({ status: 'running', attempts: 1, output: null, error: null })
  const settled = (await harmonia.getEvents(id)).filter((e) => e.task_id === task && e.type !== 'task_started')
  expect(settled).toEqual([])
  expect(remote.calls).toHaveLength(1)
}

describeEachStore('callback signatures', () => {
  it('a tampered body, a wrong secret, another component’s secret, a stale timestamp or no signature: 401, nothing changes', async () => {
    await serve()
    const secret = `secret-a-${randomUUID()}`
    const a = await waitingComponent(secret)
    const secretB = `secret-b-${randomUUID()}`
    await waitingComponent(secretB)
    const id = await startWaiting([a], ['work'])

    const body = JSON.stringify({ output: { v: 1 } })
    const now = Math.floor(Date.now() / 1000)
    const attempts: Array<[string, 'complete' | 'fail', string, Record<string, string>]> = [
      ['tampered body', 'complete', JSON.stringify({ output: { v: 2 } }), signed(secret, body)],
      ['wrong secret', 'complete', body, signed('not-the-secret', body)],
      ["another component's secret", 'complete', body, signed(secretB, body)],
      ['stale timestamp (400 s old)', 'complete', body, signed(secret, body, now - 400)],
      ['timestamp 400 s ahead', 'complete', body, signed(secret, body, now + 400)],
      ['no signature', 'complete', body, {}],
      ['a signature without its timestamp', 'complete', body, { 'X-Harmonia-Signature': hmac(secret, now, body) }],
      [
        'a timestamp that is not unix seconds',
        'complete',
        body,
        { 'X-Harmonia-Timestamp': 'yesterday', 'X-Harmonia-Signature': hmac(secret, 'yesterday', body) },
      ],
      ['a bad signature on /fail', 'fail', JSON.stringify({ error: { message: 'x' } }), signed('not-the-secret', body)],
    ]
    for (const [what, kind, raw, headers] of attempts) expectRefused(await callback(id, 'work', kind, raw, headers), what)
    await expectStillWaiting(id, 'work', a.remote)

    const accepted = await callback(id, 'work', 'complete', body, signed(secret, body))
    expect(accepted.status).toBe(200)
    expect(accepted.body).toEqual({ accepted: true, task_id: 'work', status: expect.any(String) })
    const done = await harmonia.waitForExecution(id)
    expect(done.status).toBe('completed')
    expect(done.task_executions.work).toMatchObject({ status: 'completed', attempts: 1, output: { v: 1 } })
    expect(a.remote.calls).toHaveLength(1)
    // The same callback again is idempotent; another outcome for the settled task is a conflict.
    expect((await callback(id, 'work', 'complete', body, signed(secret, body))).status).toBe(200)
    const other = JSON.stringify({ output: { v: 3 } })
    expect((await callback(id, 'work', 'complete', other, signed(secret, other))).status).toBe(409)
  })

  it('with tokens: an unsigned component’s callback needs the bearer token; a signed one needs no token', async () => {
    await serve([TOKEN])
    const open = await waitingComponent()
    const secret = `secret-${randomUUID()}`
    const signedComponent = await waitingComponent(secret)
    const id = await startWaiting([open, signedComponent], ['open', 'signed'])
    expect((await call('GET', '/api/components')).status).toBe(401)

    const openBody = JSON.stringify({ output: 'from open' })
    expectRefused(await callback(id, 'open', 'complete', openBody), 'no token')
    expectRefused(await callback(id, 'open', 'complete', openBody, { Authorization: 'Bearer wrong' }), 'a wrong token')
    // A signature made up by the caller is no credential for a component that has no secret.
    expectRefused(await callback(id, 'open', 'complete', openBody, signed('made-up', openBody)), 'a signature, no secret')

    const signedBody = JSON.stringify({ output: 'from signed' })
    expectRefused(await callback(id, 'signed', 'complete', signedBody, signed('wrong', signedBody)), 'a wrong signature, no token')
    // The token does not stand in for the signature of a component that has a secret.
    const bearer = { Authorization: `Bearer ${TOKEN}` }
    expectRefused(await callback(id, 'signed', 'complete', signedBody, bearer), 'a token, no signature')
    await expectStillWaiting(id, 'open', open.remote)
    await expectStillWaiting(id, 'signed', signedComponent.remote)

    const viaToken = await callback(id, 'open', 'complete', openBody, bearer)
    expect(viaToken.status).toBe(200)
    expect(viaToken.body).toMatchObject({ accepted: true, task_id: 'open' })
    // Signed and without a token, also under /api/v1.
    const viaSignature = await call('POST', `/api/v1/executions/${id}/tasks/signed/complete`, undefined, {
      raw: signedBody,
      headers: signed(secret, signedBody),
    })
    expect(viaSignature.status).toBe(200)
    expect(viaSignature.body).toMatchObject({ accepted: true, task_id: 'signed' })

    const done = await harmonia.waitForExecution(id)
    expect(done.status).toBe('completed')
    expect(done.task_executions.open!.output).toBe('from open')
    expect(done.task_executions.signed!.output).toBe('from signed')
  })
})
