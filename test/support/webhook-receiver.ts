import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ExecutionEvent } from '../../src/model/events.js'

/**
 * A webhook receiver for tests: a real node:http server on 127.0.0.1 that answers each POST as the test scripts it and
 * records every request as received (headers and raw body), and which of them it accepted (2xx).
 */

export type Delivery = { headers: IncomingHttpHeaders; raw: string; event: ExecutionEvent; status: number }
export type ReceiverReply = { status: number; headers?: Record<string, string> }

export type Receiver = {
  url: string
  /** Every request, in arrival order. */
  requests: Delivery[]
  /** The events answered with a 2xx, in arrival order. */
  accepted(): ExecutionEvent[]
  close(): Promise<void>
}

const open = new Set<Server>()

/** Starts a receiver; `reply(delivery, n)` answers the n-th request (0-based), default 200. */
export async function startReceiver(
  reply: (d: Omit<Delivery, 'status'>, n: number) => ReceiverReply = () => ({ status: 200 }),
): Promise<Receiver> {
  const requests: Delivery[] = []
  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      const raw = Buffer.concat(chunks).toString('utf8')
      const partial = { headers: req.headers, raw, event: JSON.parse(raw) as ExecutionEvent }
      const answer = reply(partial, requests.length)
      requests.push({ ...partial, status: answer.status })
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers })
      res.end(JSON.stringify(answer.status < 300 ? { ok: true } : { error: { message: `receiver says ${answer.status}` } }))
    })()
  })
  open.add(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    requests,
    accepted: () => requests.filter((r) => r.status >= 200 && r.status < 300).map((r) => r.event),
    async close() {
      open.delete(server)
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** Closes every receiver still open (afterEach). */
export async function closeReceivers(): Promise<void> {
  await Promise.all(
    [...open].map(async (server) => {
      open.delete(server)
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }),
  )
}

/**
 * The documented check (API.md "The call"): `X-Harmonia-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." +
 * raw body)>` with `X-Harmonia-Timestamp: <unix seconds>`, computed here independently of the server's code.
 */
export function hasValidSignature(delivery: Pick<Delivery, 'headers' | 'raw'>, secret: string): boolean {
  const timestamp = delivery.headers['x-harmonia-timestamp']
  const signature = delivery.headers['x-harmonia-signature']
  if (typeof timestamp !== 'string' || typeof signature !== 'string' || !/^\d+$/.test(timestamp)) return false
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${delivery.raw}`).digest('hex')}`)
  const given = Buffer.from(signature)
  return given.length === expected.length && timingSafeEqual(given, expected)
}
