import type { Context } from 'hono'
import { HttpError } from './problem.js'

/** Limits applied to request bodies before anything else sees them. */
export type BodyLimits = { maxBytes: number; maxDepth: number }

export const DEFAULT_BODY_LIMITS: BodyLimits = { maxBytes: 1024 * 1024, maxDepth: 64 }

/**
 * Reads a JSON body: content type, size (413), syntax (400) and nesting depth are checked here, so routes only ever
 * see parsed JSON. An empty body is `undefined` (the route decides whether that is allowed).
 */
export async function readJson(c: Context, limits: BodyLimits): Promise<unknown> {
  const declared = Number(c.req.header('content-length') ?? NaN)
  if (Number.isFinite(declared) && declared > limits.maxBytes) throw tooLarge(limits)
  const text = await c.req.text()
  if (Buffer.byteLength(text) > limits.maxBytes) throw tooLarge(limits)
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
  if (depthOf(value, limits.maxDepth) > limits.maxDepth) {
    throw new HttpError(422, 'Unprocessable Content', `JSON nested deeper than ${limits.maxDepth} levels`, [
      { path: '', message: `nesting deeper than ${limits.maxDepth}` },
    ])
  }
  return value
}

function tooLarge(limits: BodyLimits): HttpError {
  return new HttpError(413, 'Content Too Large', `the body is larger than ${limits.maxBytes} bytes`)
}

/** Nesting depth, stopping as soon as it exceeds `limit` (iterative: a hostile body must not overflow the stack). */
function depthOf(value: unknown, limit: number): number {
  let max = 0
  const stack: Array<[unknown, number]> = [[value, 0]]
  while (stack.length > 0) {
    const [v, d] = stack.pop()!
    if (d > max) max = d
    if (max > limit) return max
    if (v !== null && typeof v === 'object') for (const child of Object.values(v)) stack.push([child, d + 1])
  }
  return max
}
