import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { HandlerContext } from '../../src/components/handler.js'
import { createHarmonia, type Harmonia } from '../../src/harmonia.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import type { ExecutionEvent } from '../../src/model/events.js'
import { deferred, until } from '../support/async.js'
import { readSse } from '../support/sse.js'

/** SSE and WebSocket: replay, resume with Last-Event-ID, exactly once and in order, many subscribers. */

let server: RunningServer
let harmonia: Harmonia
let gates: Map<string, ReturnType<typeof deferred<void>>>
const gate = (name: string) => {
  if (!gates.has(name)) gates.set(name, deferred<void>())
  return gates.get(name)!
}

beforeEach(async () => {
  gates = new Map()
  harmonia = await createHarmonia({
    database: 'memory:store',
    components: { t: { wait: (_: unknown, ctx: HandlerContext) => gate(ctx.taskId).promise.then(() => ({ done: ctx.taskId })) } },
    strictComponents: false,
  })
  server = await startServer({ harmonia, port: 0, hostname: '127.0.0.1', tokens: [] })
})
afterEach(async () => {
  for (const g of gates.values()) g.resolve()
  await server.close()
  await harmonia.close()
})

/** A workflow of `n` tasks in a chain, each waiting on its own gate. */
async function chainOf(n: number) {
  const tasks = Array.from({ length: n }, (_, i) => ({
    id: `s${i}`,
    component: 't',
    action: 'wait',
    depends_on: i === 0 ? [] : [`s${i - 1}`],
  }))
  const wf = await harmonia.createWorkflow({ name: 'chain', tasks })
  return harmonia.startExecution({ workflow_id: wf.workflow_id })
}

describe('SSE', () => {
  it('a client that disconnects mid-execution and reconnects with Last-Event-ID receives every event exactly once, in order', async () => {
    const run = await chainOf(3)
    const seen: ExecutionEvent[] = []
    // First connection: read until s0 started, then drop the connection.
    const first = await fetch(`${server.url}/events/executions/${run.execution_id}`)
    expect(first.headers.get('content-type')).toContain('text/event-stream')
    await readSse(first, (e) => {
      expect(e.id).toBe(String(e.data.seq))
      expect(e.event).toBe(e.data.type)
      seen.push(e.data)
      return e.data.type === 'task_started' && e.data.task_id === 's0'
    })
    // While disconnected the execution moves on.
    gate('s0').resolve()
    await until(async () => (await harmonia.getExecution(run.execution_id)).task_executions.s1!.status === 'running', 's1 running')
    const last = seen.at(-1)!.seq
    const second = await fetch(`${server.url}/events/executions/${run.execution_id}`, { headers: { 'Last-Event-ID': String(last) } })
    const ending = readSse(second, (e) => void seen.push(e.data))
    gate('s1').resolve()
    gate('s2').resolve()
    expect(await ending).toBe('ended') // the stream ends after the terminal event
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1))
    expect(seen.at(-1)!.type).toBe('workflow_completed')
    expect(seen.map((e) => e.seq)).toEqual((await harmonia.getEvents(run.execution_id)).map((e) => e.seq))
    // ?after=N resumes the same way.
    const tail: number[] = []
    await readSse(
      await fetch(`${server.url}/events/executions/${run.execution_id}?after=${seen.length - 2}`),
      (e) => void tail.push(e.data.seq),
    )
    expect(tail).toEqual([seen.length - 1, seen.length])
  })

  it('two hundred concurrent subscribers on one execution all receive the full stream', async () => {
    const run = await chainOf(2)
    const streams = await Promise.all(Array.from({ length: 200 }, () => fetch(`${server.url}/events/executions/${run.execution_id}`)))
    const received = streams.map(() => [] as number[])
    const done = Promise.all(streams.map((s, i) => readSse(s, (e) => void received[i]!.push(e.data.seq))))
    gate('s0').resolve()
    gate('s1').resolve()
    await done
    const expected = (await harmonia.getEvents(run.execution_id)).map((e) => e.seq)
    expect(expected.length).toBe(6)
    for (const r of received) expect(r).toEqual(expected)
  })

  it('an unknown execution is a 404 problem, not a stream', async () => {
    const res = await fetch(`${server.url}/events/executions/01234567-89ab-7def-8123-456789abcdef`)
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toContain('application/problem+json')
  })
})

describe('WebSocket', () => {
  function collect(url: string) {
    const ws = new WebSocket(url)
    const events: ExecutionEvent[] = []
    const closed = new Promise<number>((resolve, reject) => {
      ws.on('message', (data: Buffer) => events.push(JSON.parse(data.toString()) as ExecutionEvent))
      ws.on('close', (code: number) => resolve(code))
      ws.on('error', reject)
    })
    return { ws, events, closed }
  }

  it('sends the same events as text frames, replays with ?after=N and closes with 1000 after the terminal event', async () => {
    const run = await chainOf(2)
    const all = collect(`${server.url.replace('http', 'ws')}/ws/executions/${run.execution_id}`)
    await until(() => all.events.some((e) => e.type === 'task_started'), 'first event')
    gate('s0').resolve()
    gate('s1').resolve()
    expect(await all.closed).toBe(1000)
    const stored = await harmonia.getEvents(run.execution_id)
    expect(all.events).toEqual(stored)
    const tail = collect(`${server.url.replace('http', 'ws')}/ws/executions/${run.execution_id}?after=4`)
    expect(await tail.closed).toBe(1000)
    expect(tail.events.map((e) => e.seq)).toEqual([5, 6])
  })
})

describe('all executions', () => {
  it('GET /events/executions streams every execution’s events live', async () => {
    const res = await fetch(`${server.url}/events/executions`)
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    const seen: ExecutionEvent[] = []
    const reading = readSse(res, (e) => {
      seen.push(e.data)
      return seen.filter((x) => x.type === 'workflow_completed').length === 2
    })
    // Give the stream a moment to register before anything happens.
    await new Promise((r) => setTimeout(r, 50))
    const a = await chainOf(1)
    const b = await chainOf(1)
    gate('s0').resolve()
    expect(await reading).toBe('stopped')
    expect(new Set(seen.map((e) => e.execution_id))).toEqual(new Set([a.execution_id, b.execution_id]))
  })
})
