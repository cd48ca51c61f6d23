import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { HarmoniaError, ValidationError, type FieldError } from '../errors.js'

/** RFC 9457 problem details (API.md "Errors"). */
export type Problem = { type: string; title: string; status: number; detail: string; errors?: FieldError[] }

/** What an HttpError asks of its response beyond the problem body. */
export type HttpErrorResponse = {
  /** Sent with the problem (`Allow`, `Connection`). */
  headers?: Record<string, string>
  /**
   * The response is sent at once but not ended before this settles (it must not reject): the body over the limit is
   * still being drained, and the connection is closed only after that (see body.ts).
   */
  holdOpenUntil?: Promise<unknown>
}

/** An error raised by the HTTP layer itself (malformed JSON, body too large, auth, a method a route does not serve). */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly title: string,
    detail: string,
    readonly errors?: FieldError[],
    readonly response: HttpErrorResponse = {},
  ) {
    super(detail)
    this.name = 'HttpError'
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

/** The HTTP status of each error code of src/errors.ts. */
const STATUS_OF: Record<HarmoniaError['code'], ContentfulStatusCode> = {
  validation: 422,
  not_found: 404,
  conflict: 409,
  invalid_transition: 409,
  stale_write: 409,
  unavailable: 503,
  unauthorized: 401,
  internal: 500,
}

/** The status and problem body for anything thrown by a route. Unknown errors are 500 with no internals exposed. */
export function toProblem(error: unknown): Problem {
  if (error instanceof HttpError) {
    return {
      type: `https://harmonia.dev/problems/${error.status}`,
      title: error.title,
      status: error.status,
      detail: error.message,
      ...(error.errors ? { errors: error.errors } : {}),
    }
  }
  if (error instanceof HarmoniaError) {
    const status = STATUS_OF[error.code]
    const problem: Problem = {
      type: `https://harmonia.dev/problems/${error.code}`,
      title: TITLES[status] ?? 'Error',
      status,
      detail: status === 500 ? 'internal error' : error.message,
    }
    if (error instanceof ValidationError) problem.errors = error.errors
    return problem
  }
  return { type: 'about:blank', title: TITLES[500]!, status: 500, detail: 'internal error' }
}

/** The problem+json response for anything thrown by a route, with the headers and the hold an HttpError asks for. */
export function problemResponse(c: Context, error: unknown): Response {
  const body = toProblem(error)
  const { headers = {}, holdOpenUntil } = error instanceof HttpError ? error.response : {}
  const status = body.status as ContentfulStatusCode
  const text = JSON.stringify(body)
  if (!holdOpenUntil) return c.body(text, status, { ...headers, 'content-type': 'application/problem+json' })
  // The whole problem goes out at once (its length declared, so the client has it all), then the body ends later.
  const bytes = new TextEncoder().encode(text)
  const held = new ReadableStream<Uint8Array>({
    start: (controller) => controller.enqueue(bytes),
    pull: async (controller) => {
      await holdOpenUntil
      controller.close()
    },
  })
  return c.body(held, status, { ...headers, 'content-type': 'application/problem+json', 'content-length': String(bytes.byteLength) })
}

export const notFound = (what: string) => new HttpError(404, TITLES[404]!, what)
