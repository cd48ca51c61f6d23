/**
 * A body over the limit (API.md "Errors": 413, default 1 MiB) is answered with a 413 every client reads: the server
 * sends `Connection: close` and reads and discards the rest of the body (bounded) before it closes the connection, so
 * no client sees a reset instead of the answer. Through a real listening server, with a raw socket, Node's fetch and
 * curl; after each the server still answers /health.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { drainBody } from '../../src/http/body.js'
import { startServer, type RunningServer } from '../../src/http/server.js'

const MiB = 1024 * 1024
const CHUNK = 64 * 1024

let server: RunningServer
let dir: string

beforeAll(async () => {
  server = await startServer({ port: 0, hostname: '127.0.0.1', tokens: [], graceMs: 0, harmoniaOptions: { database: 'memory:store' } })
  dir = await mkdtemp(join(tmpdir(), 'harmonia-413-'))
})
afterAll(async () => {
  await server?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

type RawRequest = {
  head: string
  /** Body bytes to send, in 64 KiB writes. */
  bytes: number
  /** The bytes one write of the body puts on the wire (chunked framing). */
  frame?: (chunk: Buffer) => Buffer[]
  trailer?: Buffer
  /** A pause between writes, ms: a client slower than the server's own clean-up (it lets the socket go after 500 ms). */
  pauseMs?: number
}
/** What the client read until the server closed the connection, how much body it got to write, and any socket error. */
type RawAnswer = { text: string; sent: number; error?: string }

/** Sends a request over a plain socket, reading the answer while it writes the body. */
function rawRequest({ head, bytes, frame = (chunk) => [chunk], trailer, pauseMs = 0 }: RawRequest): Promise<RawAnswer> {
  const { port } = server
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    const received: Buffer[] = []
    let sent = 0
    let error: string | undefined
    socket.on('data', (data: Buffer) => received.push(data))
    socket.on('error', (e) => (error = (e as NodeJS.ErrnoException).code ?? e.message))
    socket.on('close', () => resolve({ text: Buffer.concat(received).toString('latin1'), sent, ...(error ? { error } : {}) }))
    const write = (data: Buffer) => new Promise<boolean>((done) => socket.write(data, (e) => done(!e)))
    socket.on('connect', () => {
      void (async () => {
        if (!(await write(Buffer.from(head, 'latin1')))) return
        const chunk = Buffer.alloc(CHUNK, ' ')
        while (sent < bytes && !socket.destroyed) {
          for (const part of frame(chunk)) if (!(await write(part))) return
          sent += CHUNK
          if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs))
        }
        if (trailer && !socket.destroyed) await write(trailer)
      })()
    })
  })
}

/** The status line, headers (lower-cased names) and body of a raw HTTP/1.1 answer. */
function parseAnswer(text: string) {
  const end = text.indexOf('\r\n\r\n')
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n')
  const headers = Object.fromEntries(
    lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  )
  return { statusLine, headers, body: text.slice(end + 4) }
}

function expectProblem413(text: string) {
  const answer = parseAnswer(text)
  expect(answer.statusLine).toMatch(/^HTTP\/1\.1 413 /)
  expect(answer.headers['content-type']).toBe('application/problem+json')
  expect(answer.headers.connection?.toLowerCase()).toBe('close')
  const json = answer.headers['transfer-encoding'] === 'chunked' ? dechunk(answer.body) : answer.body
  expect(JSON.parse(json)).toMatchObject({ status: 413, title: 'Content Too Large', detail: 'the body is larger than 1048576 bytes' })
}

/** The payload of a chunked body. */
function dechunk(body: string): string {
  let out = ''
  for (let at = 0; ;) {
    const eol = body.indexOf('\r\n', at)
    const size = parseInt(body.slice(at, eol), 16)
    if (!size) return out
    out += body.slice(eol + 2, eol + 2 + size)
    at = eol + 2 + size + 2
  }
}

async function expectHealthy() {
  const health = await fetch(`${server.url}/health`)
  expect(health.status).toBe(200)
  expect(await health.json()).toMatchObject({ status: 'healthy' })
}

describe('413 over the body limit', () => {
  it('a raw socket sending Content-Length: 2 MiB in 64 KiB writes reads HTTP/1.1 413, problem+json, connection: close', async () => {
    const head = `POST /api/workflows HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${2 * MiB}\r\n\r\n`
    const answer = await rawRequest({ head, bytes: 2 * MiB })
    expect(answer.error, answer.text.slice(0, 300)).toBeUndefined()
    expect(answer.sent).toBe(2 * MiB)
    expectProblem413(answer.text)
    await expectHealthy()
  })

  it('a client slower than 64 KiB per 25 ms still sends its whole body, then reads the 413: the server drains it', async () => {
    const head = `POST /api/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${2 * MiB}\r\n\r\n`
    const answer = await rawRequest({ head, bytes: 2 * MiB, pauseMs: 25 })
    expect(answer.error, answer.text.slice(0, 300)).toBeUndefined()
    expect(answer.sent).toBe(2 * MiB)
    expectProblem413(answer.text)
    await expectHealthy()
  })

  it('a raw socket sending 2 MiB chunked (no content-length) reads the same 413', async () => {
    const head = `PUT /api/state/01890000-0000-7000-8000-000000000000 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`
    const size = Buffer.from(`${CHUNK.toString(16)}\r\n`)
    const crlf = Buffer.from('\r\n')
    const answer = await rawRequest({ head, bytes: 2 * MiB, frame: (chunk) => [size, chunk, crlf], trailer: Buffer.from('0\r\n\r\n') })
    expect(answer.error, answer.text.slice(0, 300)).toBeUndefined()
    expect(answer.sent).toBe(2 * MiB)
    expectProblem413(answer.text)
    await expectHealthy()
  })

  it("Node's fetch POSTing 2 MiB gets status 413 and the problem body", async () => {
    const response = await fetch(`${server.url}/api/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ workflow_id: 'x', input: { blob: 'x'.repeat(2 * MiB) } }),
    })
    expect(response.status).toBe(413)
    expect(response.headers.get('connection')).toBe('close')
    expect(await response.json()).toMatchObject({ status: 413, detail: 'the body is larger than 1048576 bytes' })
    await expectHealthy()
  })

  it('curl posting a 2 MiB file with --data-binary reads 413', async () => {
    const file = join(dir, 'big.json')
    await writeFile(file, JSON.stringify({ name: 'big', description: 'y'.repeat(2 * MiB), tasks: [] }))
    const { stdout } = await promisify(execFile)('curl', [
      '-sS',
      '-o',
      join(dir, 'answer.json'),
      '-w',
      '%{http_code}',
      '-H',
      'content-type: application/json',
      '--data-binary',
      `@${file}`,
      `${server.url}/api/workflows`,
    ])
    expect(stdout).toBe('413')
    await expectHealthy()
  })
})

describe('drainBody', () => {
  const endless = () => {
    const chunk = new Uint8Array(CHUNK)
    return new ReadableStream<Uint8Array>({ pull: (controller) => controller.enqueue(chunk) })
  }

  it('reads a body to its end and reports it drained', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new Uint8Array(CHUNK))
        controller.close()
      },
    })
    await expect(drainBody(stream.getReader(), { maxBytes: MiB, maxMs: 10_000 })).resolves.toBe('drained')
  })

  it('gives up on a body longer than its byte bound', async () => {
    await expect(drainBody(endless().getReader(), { maxBytes: 4 * CHUNK, maxMs: 60_000 })).resolves.toBe('too_large')
  })

  it('gives up on a body that stops arriving once its time bound passes', async () => {
    const stalled = new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}) })
    await expect(drainBody(stalled.getReader(), { maxBytes: MiB, maxMs: 20 })).resolves.toBe('timed_out')
  })
})
