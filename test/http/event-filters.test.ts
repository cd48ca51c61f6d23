/**
 * Event filters (issue 11, API.md "Event filters"), through a real listening server on the memory store, PGlite and
 * Postgres: `?types=` on an execution's SSE stream (ids keep their seq, so Last-Event-ID still resumes; the stream
 * still ends after the terminal event) and WebSocket, `?workflow_id=&types=` on the all-executions stream (live only,
 * comment lines for keep-alive), and 422 naming `types` (or `workflow_id`) for names that are not events.
 */
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createHarmonia, type Harmonia } from '../../src/harmonia.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { createLogger } from '../../src/logger.js'
import type { ExecutionEvent } from '../../src/model/events.js'
import { storeCases } from '../support/stores.js'

const chain = (name: string, n = 3) => ({
  name,
  tasks: Array.from({ length: n }, (_, i) => ({
    id: `t${i}`,
    component: 'harmonia',
    action: 'echo',
    input: { i },
    depends_on: i === 0 ? [] : [`t${i - 1}`],
  })),
})

type Frame = { id?: string; event?: string; data?: ExecutionEvent; comment?: string }

/** Reads SSE frames (comment lines included) until `stop` answers true or the stream ends. */
async function readFrames(
  response: Response,
  stop: (frame: Frame, all: Frame[]) => boolean = () => false,
): Promise<{ frames: Frame[]; ended: boolean }> {
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  const frames: Frame[] = []
  let buffer = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) return { frames, ended: true }
    buffer += decoder.decode(value, { stream: true })
    let cut: number
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const text = buffer.slice(0, cut)
      buffer = buffer.slice(cut + 2)
      const frame: Frame = {}
      for (const line of text.split('\n')) {
        if (line.startsWith(':')) frame.comment = line.slice(1).trim()
        const at = line.indexOf(':')
        if (at <= 0) continue
        const [field, rest] = [line.slice(0, at), line.slice(at + 1).trimStart()]
        if (field === 'id') frame.id = rest
        if (field === 'event') frame.event = rest
        if (field === 'data') frame.data = JSON.parse(rest) as ExecutionEvent
      }
      frames.push(frame)
      if (stop(frame, frames)) {
        await reader.cancel()
        return { frames, ended: false }
      }
    }
  }
}

const events = (frames: Frame[]) => frames.flatMap((f) => (f.data ? [f.data] : []))

const running: Array<{ server: RunningServer; harmonia: Harmonia }> = []
afterEach(async () => {
  for (const { server, harmonia } of running.splice(0)) {
    await server.close()
    await harmonia.close()
  }
})

for (const kind of storeCases) {
  describe.skipIf(kind.skip)(`${kind.title}: event filters`, () => {
    async function boot() {
      const { store } = await kind.open()
      const harmonia = await createHarmonia({ store, logger: createLogger({ level: 'silent' }) })
      const server = await startServer({ harmonia, port: 0, hostname: '127.0.0.1', tokens: [], keepAliveMs: 50 })
      running.push({ server, harmonia })
      return { harmonia, server }
    }

    it('SSE ?types= sends only those events, ids are their seq (resume works), and ends after the terminal event', async () => {
      const { harmonia, server } = await boot()
      const workflow = await harmonia.createWorkflow(chain('sse filter'))
      const run = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
      await harmonia.waitForExecution(run.execution_id)
      const all = await harmonia.getEvents(run.execution_id)
      const wanted = all.filter((e) => e.type === 'task_completed' || e.type === 'workflow_completed')

      const url = `${server.url}/events/executions/${run.execution_id}?types=task_completed,workflow_completed`
      const full = await readFrames(await fetch(url))
      expect(full.ended).toBe(true)
      expect(events(full.frames)).toEqual(wanted)
      for (const frame of full.frames.filter((f) => f.data)) {
        expect(frame.id).toBe(String(frame.data!.seq))
        expect(frame.event).toBe(frame.data!.type)
      }
      // The seq numbering has the gaps of the events left out: resuming after the second one gives the rest.
      const resumed = await readFrames(await fetch(url, { headers: { 'Last-Event-ID': String(wanted[1]!.seq) } }))
      expect(events(resumed.frames)).toEqual(wanted.slice(2))

      // A filter that leaves out the terminal event still ends the stream after it.
      const only = await readFrames(await fetch(`${server.url}/events/executions/${run.execution_id}?types=task_started`))
      expect(only.ended).toBe(true)
      expect(events(only.frames).map((e) => e.task_id)).toEqual(['t0', 't1', 't2'])
    })

    it('WebSocket ?types= sends only those events and closes with 1000 after the terminal event', async () => {
      const { harmonia, server } = await boot()
      const workflow = await harmonia.createWorkflow(chain('ws filter'))
      const run = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
      await harmonia.waitForExecution(run.execution_id)
      const all = await harmonia.getEvents(run.execution_id)
      const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/ws/executions/${run.execution_id}?types=task_completed`)
      const frames: ExecutionEvent[] = []
      const code = await new Promise<number>((resolve, reject) => {
        ws.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString()) as ExecutionEvent))
        ws.on('close', (c: number) => resolve(c))
        ws.on('error', reject)
      })
      expect(code).toBe(1000)
      expect(frames).toEqual(all.filter((e) => e.type === 'task_completed'))
      // ?after= resumes inside the filtered stream.
      const after = frames[0]!.seq
      const ws2 = new WebSocket(
        `${server.url.replace(/^http/, 'ws')}/ws/executions/${run.execution_id}?types=task_completed&after=${after}`,
      )
      const rest: ExecutionEvent[] = []
      await new Promise<void>((resolve, reject) => {
        ws2.on('message', (data: Buffer) => rest.push(JSON.parse(data.toString()) as ExecutionEvent))
        ws2.on('close', () => resolve())
        ws2.on('error', reject)
      })
      expect(rest).toEqual(frames.slice(1))
    })

    it('the all-executions stream filters by workflow_id and types, live, with comment keep-alives', async () => {
      const { harmonia, server } = await boot()
      const wanted = await harmonia.createWorkflow(chain('watched'))
      const other = await harmonia.createWorkflow(chain('ignored'))
      const response = await fetch(
        `${server.url}/events/executions?workflow_id=${wanted.workflow_id}&types=task_completed,workflow_completed`,
      )
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
      let started: Promise<string[]> | undefined
      const reading = readFrames(response, (frame, all) => {
        // Subscribed: start one execution of each workflow; stop after the watched one's terminal event and a keep-alive.
        if (frame.comment === 'connected')
          started = (async () => {
            const ids: string[] = []
            for (const wf of [other, wanted, other]) {
              const run = await harmonia.startExecution({ workflow_id: wf.workflow_id })
              await harmonia.waitForExecution(run.execution_id)
              ids.push(run.execution_id)
            }
            return ids
          })()
        const ended = events(all).some((e) => e.type === 'workflow_completed')
        return ended && all.some((f) => f.comment === 'keep-alive') && frame.comment === 'keep-alive'
      })
      const { frames } = await reading
      const ids = await started!
      const watched = ids[1]!
      const expected = (await harmonia.getEvents(watched)).filter((e) => e.type === 'task_completed' || e.type === 'workflow_completed')
      expect(events(frames)).toEqual(expected)
      for (const frame of frames.filter((f) => f.data)) expect(frame.id).toBe(`${watched}:${frame.data!.seq}`)
      expect(frames.filter((f) => !f.data).every((f) => f.comment === 'connected' || f.comment === 'keep-alive')).toBe(true)
    })

    it('refuses names that are not events with 422 naming types (SSE, WebSocket, all executions), and a bad workflow_id', async () => {
      const { harmonia, server } = await boot()
      const workflow = await harmonia.createWorkflow(chain('bad filter', 1))
      const run = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
      await harmonia.waitForExecution(run.execution_id)
      for (const path of [
        `/events/executions/${run.execution_id}?types=task_completed,task_exploded`,
        '/events/executions?types=nope',
        `/ws/executions/${run.execution_id}?types=nope`,
      ]) {
        const answer = await fetch(server.url + path)
        expect(answer.status, path).toBe(422)
        expect(answer.headers.get('content-type'), path).toContain('application/problem+json')
        const problem = (await answer.json()) as { errors: Array<{ path: string; message: string }> }
        expect(problem.errors[0]!.path, path).toBe('types')
        expect(problem.errors[0]!.message).toMatch(/nope|task_exploded/)
      }
      const socket = new WebSocket(`${server.url.replace(/^http/, 'ws')}/ws/executions/${run.execution_id}?types=nope`)
      const status = await new Promise<number>((resolve) => {
        socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
        socket.on('error', () => resolve(-1))
      })
      expect(status).toBe(422)
      const bad = await fetch(`${server.url}/events/executions?workflow_id=abc`)
      expect(bad.status).toBe(422)
      expect(((await bad.json()) as { errors: Array<{ path: string }> }).errors[0]!.path).toBe('workflow_id')
    })
  })
}
