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
  const declared = Number(c.req.header('content-length') ?? NaN)
  if (Number.isFinite(declared) && declared > limits.maxBytes) throw tooLarge(limits)
  const text = await readText(c, limits)
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

/**
 * The body as text, buffered at most `maxBytes` far: a chunked body without a content-length is never held whole.
 * Past the limit the rest is read and dropped (up to 8 × the limit), so the client receives its 413 and can reuse the
 * connection; a body larger still is abandoned and its connection closed.
 */
async function readText(c: Context, limits: BodyLimits): Promise<string> {
  const body = c.req.raw.body
  if (!body) return ''
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limits.maxBytes) {
      chunks.length = 0
      for (;;) {
        if (size > 8 * limits.maxBytes) {
          await reader.cancel().catch(() => {})
          break
        }
        const next = await reader.read()
        if (next.done) break
        size += next.value.byteLength
      }
      throw tooLarge(limits)
    }
    chunks.push(value)
  }
  return new TextDecoder().decode(Buffer.concat(chunks))
}

function tooLarge(limits: BodyLimits): HttpError {
  return new HttpError(413, 'Content Too Large', `the body is larger than ${limits.maxBytes} bytes`)
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
