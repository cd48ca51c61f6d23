import { spawn, type ChildProcess } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, loadComponentConfig } from '../../src/components/config.js'

const example = (path: string) => fileURLToPath(new URL(`../../examples/${path}`, import.meta.url))
const SECRET = 'example-component-secret'
const children: ChildProcess[] = []

afterAll(async () => {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill()
      await exited
    }),
  )
})

/** Starts an example server on a free port (PORT=0) and resolves its URL once it prints its line. */
async function startComponent(command: string, file: string, secret: string | undefined): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1' }
  delete env.PROMETHEUS_SECRET
  if (secret !== undefined) env.PROMETHEUS_SECRET = secret
  const child = spawn(command, [example(file)], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise<string>((resolve, reject) => {
    // A deadline for the start, not a timed assertion: a slow machine gets 30 s.
    const timer = setTimeout(() => reject(new Error(`${file} printed no line within 30 s: ${stderr}`)), 30_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${file} exited (${code}): ${stderr}`))
    })
    createInterface({ input: child.stdout }).on('line', (line) => {
      const url = /^prometheus component listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line)?.[1]
      if (url === undefined) return
      clearTimeout(timer)
      resolve(url)
    })
  })
}

type CallOptions = { secret?: string; timestamp?: number; tamper?: boolean }

/** Calls `action` as Harmonia does (API.md "The call"): the body, the idempotency key, the timestamp and the signature. */
async function call(url: string, action: string, params: unknown, options: CallOptions = {}) {
  const body = JSON.stringify({
    action,
    params,
    context: {
      execution_id: 'exec-1',
      workflow_id: 'wf-1',
      task_id: 'analyze',
      attempt: 1,
      idempotency_key: 'exec-1:analyze',
      callback_url: 'http://127.0.0.1:8000/api/executions/exec-1/tasks/analyze',
      deadline: new Date(Date.now() + 60_000).toISOString(),
    },
  })
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000))
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'Idempotency-Key': 'exec-1:analyze',
    'X-Harmonia-Timestamp': timestamp,
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  }
  if (options.secret !== undefined) {
    headers['X-Harmonia-Signature'] = `sha256=${createHmac('sha256', options.secret).update(`${timestamp}.${body}`).digest('hex')}`
  }
  const sent = options.tamper ? body.replace('"attempt":1', '"attempt":2') : body
  const response = await fetch(`${url}/api/actions/${action}`, { method: 'POST', headers, body: sent })
  return { status: response.status, body: await response.json() }
}

describe.each([
  ['node', 'components/prometheus.mjs'],
  ['python3', 'components/component.py'],
])('the example component %s %s', (command, file) => {
  let url: string
  let open: string
  beforeAll(async () => {
    ;[url, open] = await Promise.all([startComponent(command, file, SECRET), startComponent(command, file, undefined)])
  })

  it('answers a signed call with the output naming what it received', async () => {
    expect(await call(url, 'analyze_results', { data: 'the quick fox' }, { secret: SECRET })).toEqual({
      status: 200,
      body: { output: { analysis: '3 words', received: 'the quick fox', length: 13 } },
    })
    expect(await call(url, 'analyze_results', { data: { a: [1, 2] } }, { secret: SECRET })).toEqual({
      status: 200,
      body: { output: { analysis: '1 word', received: { a: [1, 2] }, length: 11 } },
    })
  })

  it('refuses a tampered body, a wrong secret, a missing signature and a stale timestamp with 401', async () => {
    const refused = { status: 401, body: { error: { message: 'bad signature' } } }
    const params = { data: 'x' }
    expect(await call(url, 'analyze_results', params, { secret: SECRET, tamper: true })).toEqual(refused)
    expect(await call(url, 'analyze_results', params, { secret: 'another-secret' })).toEqual(refused)
    expect(await call(url, 'analyze_results', params)).toEqual(refused)
    const stale = Math.floor(Date.now() / 1000) - 400
    expect(await call(url, 'analyze_results', params, { secret: SECRET, timestamp: stale })).toEqual(refused)
    // Just inside the window it is accepted: the 401 above is the age, not the signature.
    const recent = Math.floor(Date.now() / 1000) - 200
    expect((await call(url, 'analyze_results', params, { secret: SECRET, timestamp: recent })).status).toBe(200)
  })

  it('answers 404 for an unknown action', async () => {
    const answer = await call(url, 'summarize', { data: 'x' }, { secret: SECRET })
    expect(answer).toEqual({ status: 404, body: { error: { message: 'unknown action summarize' } } })
  })

  it('answers GET /health with 200', async () => {
    const response = await fetch(`${url}/health`)
    expect({ status: response.status, body: await response.json() }).toEqual({ status: 200, body: { status: 'healthy' } })
  })

  it('checks no signature when PROMETHEUS_SECRET is unset', async () => {
    expect(await call(open, 'analyze_results', { data: 'a b' })).toMatchObject({ status: 200, body: { output: { received: 'a b' } } })
  })
})

describe('examples/tekton.yaml', () => {
  it('parses: ergon aliases shell, prometheus is a remote component signed with PROMETHEUS_SECRET', async () => {
    const config = await loadComponentConfig(example('tekton.yaml'), { PROMETHEUS_SECRET: SECRET })
    expect(config.components).toEqual([
      { name: 'ergon', kind: 'alias', type: 'shell' },
      {
        name: 'prometheus',
        kind: 'remote',
        url: 'http://127.0.0.1:8030',
        secret: SECRET,
        actions: ['analyze_results'],
        timeout: 30,
        description: expect.any(String),
        metadata: { team: 'tekton' },
      },
    ])
  })

  it('stops without PROMETHEUS_SECRET, naming it', async () => {
    const error = await loadComponentConfig(example('tekton.yaml'), {}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).problems).toEqual([
      { path: 'components.prometheus.secret', line: 10, message: 'environment variable PROMETHEUS_SECRET is not set' },
    ])
  })
})
