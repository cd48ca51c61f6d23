import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { HarmoniaError, ValidationError, type FieldError } from '../errors.js'

/** RFC 9457 problem details (API.md "Errors"). */
export type Problem = { type: string; title: string; status: number; detail: string; errors?: FieldError[] }

/** An error raised by the HTTP layer itself (malformed JSON, body too large, auth). */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly title: string,
    detail: string,
    readonly errors?: FieldError[],
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
  500: 'Internal Server Error',
  503: 'Service Unavailable',
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
    const status =
      error.code === 'validation'
        ? 422
        : error.code === 'not_found'
          ? 404
          : error.code === 'conflict' || error.code === 'invalid_transition' || error.code === 'stale_write'
            ? 409
            : error.code === 'unavailable'
              ? 503
              : 500
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

/** Sends a problem+json response. */
export function problem(c: Context, p: Problem): Response {
  return c.body(JSON.stringify(p), p.status as ContentfulStatusCode, { 'content-type': 'application/problem+json' })
}

export const notFound = (what: string) => new HttpError(404, TITLES[404]!, what)
