import type { IncomingMessage } from 'node:http'
import type { Context } from 'hono'
import { formatPath, type PathSegment } from '../json.js'
import { HttpError } from './problem.js'

/** Limits applied to request bodies before anything else sees them. */
export type BodyLimits = { maxBytes: number; maxDepth: number }

export const DEFAULT_BODY_LIMITS: BodyLimits = { maxBytes: 1024 * 1024, maxDepth: 64 }

/**
 * Reads a JSON body: content type, size (413), syntax (400) and nesting depth are checked here, so routes only ever
 * see parsed JSON. An empty body is `undefined` (the route decides whether that is allowed).
 * JSON that parses but cannot be represented faithfully is malformed too (400): a number beyond the range of a double
 * (`1e309` parses as Infinity, which JSON cannot carry back) and a string with an unpaired UTF-16 surrogate (`"\ud800"`,
 * which Postgres refuses to store).
 */
export async function readJson(c: Context, limits: BodyLimits): Promise<unknown> {
  return (await readJsonText(c, limits)).value
}

/** `readJson` that also gives the body exactly as received (what a signature covers). */
export async function readJsonText(c: Context, limits: BodyLimits): Promise<{ text: string; value: unknown }> {
  const text = await readText(c, limits)
  return { text, value: parseJsonBody(c, text, limits) }
}

function parseJsonBody(c: Context, text: string, limits: BodyLimits): unknown {
  if (text.trim() === '') return undefined
  const type = c.req.header('content-type') ?? ''
  if (type !== '' && !/^application\/([\w.+-]*\+)?json\b/i.test(type)) {
    throw new HttpError(415, 'Unsupported Media Type', `expected application/json, got ${type.slice(0, 100)}`)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new HttpError(400, 'Bad Request', `malformed JSON: ${(error as Error).message}`)
  }
  // Decoded UTF-8 never holds a lone surrogate: only a `\uD800`-style escape can produce one.
  checkValue(value, limits.maxDepth, /\\u[dD][89a-fA-F]/.test(text))
  return value
}

/** What the body is read from: a web stream's reader, or a Node request's async iterator (same `read` shape). */
type ChunkReader = { read(): Promise<{ done?: boolean; value?: Uint8Array }> }

/**
 * The request's own chunks. Behind @hono/node-server the Node request (`c.env.incoming`) is read directly: hono's
 * `Request.body` would wrap it in a web ReadableStream first, measured at ~5% of the server's CPU on `POST
 * /api/executions`. Anywhere else (`app.request()`, another runtime) the web body.
 */
function chunksOf(c: Context): ChunkReader | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
  if (incoming && typeof incoming[Symbol.asyncIterator] === 'function' && !incoming.readableEnded) {
    const chunks = incoming[Symbol.asyncIterator]() as AsyncIterator<Buffer>
    return { read: () => chunks.next() }
  }
  return c.req.raw.body?.getReader()
}

/**
 * The body as text, buffered at most `maxBytes` far: a chunked body without a content-length is never held whole, and
 * a declared content-length over the limit is refused before anything is read. Either way the 413 drains the rest.
 */
async function readText(c: Context, limits: BodyLimits): Promise<string> {
  const declared = Number(c.req.header('content-length') ?? NaN)
  const reader = chunksOf(c)
  if (Number.isFinite(declared) && declared > limits.maxBytes) throw tooLarge(limits, reader, 0)
  if (!reader) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done || value === undefined) break
    size += value.byteLength
    if (size > limits.maxBytes) throw tooLarge(limits, reader, size)
    chunks.push(value)
  }
  return UTF8.decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks))
}

/** Stateless without `stream`, so one serves every request (it drops a leading BOM, as JSON readers do). */
const UTF8 = new TextDecoder()

/** How long and how far a body over the limit is drained: 16 × the limit but at most 32 MiB in all, for 10 s. */
const DRAIN_FACTOR = 16
const DRAIN_MAX_BYTES = 32 * 1024 * 1024
const DRAIN_MAX_MS = 10_000

/**
 * The 413 for a body over the limit, of which `read` bytes were read so far. Closing a connection while the client
 * is still sending makes its TCP stack see a reset, which can cost it the answer it was sent (and @hono/node-server
 * gives up on an unread body after 500 ms, cutting off a slow client). So the answer says `Connection: close` and goes
 * out at once, but the connection is held open while the rest of the body is read and dropped — up to a bound in bytes
 * and time, past which the client is abusive and the connection is closed anyway.
 */
function tooLarge(limits: BodyLimits, reader: ChunkReader | undefined, read: number): HttpError {
  const maxBytes = Math.max(0, Math.min(DRAIN_FACTOR * limits.maxBytes, DRAIN_MAX_BYTES) - read)
  return new HttpError(413, 'Content Too Large', `the body is larger than ${limits.maxBytes} bytes`, undefined, {
    headers: { connection: 'close' },
    ...(reader ? { holdOpenUntil: drainBody(reader, { maxBytes, maxMs: DRAIN_MAX_MS }) } : {}),
  })
}

export type DrainOutcome = 'drained' | 'too_large' | 'timed_out' | 'failed'

/**
 * Reads and discards the rest of a body, at most `maxBytes` more and for at most `maxMs`: resolves (never rejects)
 * with how it ended. A read still pending when a bound is hit ends with the connection.
 */
export async function drainBody(reader: ChunkReader, bounds: { maxBytes: number; maxMs: number }): Promise<DrainOutcome> {
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<DrainOutcome>((resolve) => {
    timer = setTimeout(() => resolve('timed_out'), bounds.maxMs)
  })
  let stopped = false
  const read = async (): Promise<DrainOutcome> => {
    let size = 0
    while (!stopped) {
      const { done, value } = await reader.read()
      if (done || value === undefined) return 'drained'
      size += value.byteLength
      if (size > bounds.maxBytes) return 'too_large'
    }
    return 'timed_out'
  }
  try {
    return await Promise.race([read().catch((): DrainOutcome => 'failed'), timedOut])
  } finally {
    stopped = true
    clearTimeout(timer)
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

type Frame = { value: unknown; depth: number; parent: Frame | null; key: PathSegment }

const pathOf = (frame: Frame): string => {
  const segments: PathSegment[] = []
  for (let f: Frame | null = frame; f?.parent; f = f.parent) segments.push(f.key)
  return formatPath(segments.reverse())
}

/**
 * Walks the parsed body once, iteratively (a hostile body must not overflow the stack): nesting deeper than `maxDepth`
 * is a 422; a non-finite number or (when `surrogates`) a string or key with an unpaired surrogate is a 400 naming it.
 */
function checkValue(root: unknown, maxDepth: number, surrogates: boolean): void {
  const stack: Frame[] = [{ value: root, depth: 0, parent: null, key: '' }]
  while (stack.length > 0) {
    const frame = stack.pop()!
    const { value, depth } = frame
    if (depth > maxDepth) {
      throw new HttpError(422, 'Unprocessable Content', `JSON nested deeper than ${maxDepth} levels`, [
        { path: '', message: `nesting deeper than ${maxDepth}` },
      ])
    }
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw unrepresentable(frame, 'is a number out of range (beyond ±1.7976931348623157e308)')
    } else if (typeof value === 'string') {
      if (surrogates && LONE_SURROGATE.test(value)) throw unrepresentable(frame, 'holds an unpaired UTF-16 surrogate')
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) stack.push({ value: value[i], depth: depth + 1, parent: frame, key: i })
    } else if (value !== null && typeof value === 'object') {
      for (const key of Object.keys(value)) {
        const child: Frame = { value: (value as Record<string, unknown>)[key], depth: depth + 1, parent: frame, key }
        if (surrogates && LONE_SURROGATE.test(key)) throw unrepresentable(child, 'has a key with an unpaired UTF-16 surrogate')
        stack.push(child)
      }
    }
  }
}

function unrepresentable(frame: Frame, what: string): HttpError {
  const path = pathOf(frame)
  const message = `${path === '' ? 'the body' : path} ${what}`
  return new HttpError(400, 'Bad Request', `malformed JSON: ${message}`, [{ path, message }])
}
