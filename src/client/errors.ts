/** One field that failed validation: `path` in dotted/indexed form (`tasks[2].depends_on[0]`). */
export type ProblemFieldError = { path: string; message: string }

/** An RFC 9457 problem+json body as Harmonia sends it (API.md "Errors"). */
export type Problem = {
  type: string
  title: string
  status: number
  detail?: string
  errors?: ProblemFieldError[]
  [extension: string]: unknown
}

/** A non-2xx answer from Harmonia, carrying its problem+json body. Network failures are not wrapped: they propagate. */
export class HarmoniaApiError extends Error {
  override readonly name = 'HarmoniaApiError'
  readonly status: number
  readonly type: string
  readonly title: string
  readonly detail: string | undefined
  readonly errors: ProblemFieldError[]
  readonly problem: Problem
  /** The method and path of the request that failed, e.g. `GET /api/workflows/…`. */
  readonly request: string

  constructor(problem: Problem, request: string) {
    super(`${request}: ${problem.status} ${problem.title}${problem.detail ? `: ${problem.detail}` : ''}`)
    this.status = problem.status
    this.type = problem.type
    this.title = problem.title
    this.detail = problem.detail
    this.errors = problem.errors ?? []
    this.problem = problem
    this.request = request
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * The problem of a failed response. A body that is not problem+json (a proxy's HTML page, an empty 502) still becomes
 * a Problem, so callers have one shape to read.
 */
export async function problemOf(response: Response): Promise<Problem> {
  const text = await response.text().catch(() => '')
  let body: unknown
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    body = undefined
  }
  const fallbackTitle = response.statusText || `HTTP ${response.status}`
  if (!isObject(body)) {
    return { type: 'about:blank', title: fallbackTitle, status: response.status, ...(text ? { detail: text.slice(0, 500) } : {}) }
  }
  const errors = Array.isArray(body.errors)
    ? body.errors
        .filter(isObject)
        .map((e) => ({ path: typeof e.path === 'string' ? e.path : '', message: typeof e.message === 'string' ? e.message : '' }))
    : undefined
  return {
    ...body,
    type: typeof body.type === 'string' ? body.type : 'about:blank',
    title: typeof body.title === 'string' ? body.title : fallbackTitle,
    status: response.status,
    ...(typeof body.detail === 'string' ? { detail: body.detail } : {}),
    ...(errors ? { errors } : {}),
  }
}
