// The UI's only way to the server: the public API (same origin), with the bearer token kept in this browser.

const TOKEN_KEY = 'harmonia.token'

export const getToken = () => localStorage.getItem(TOKEN_KEY) ?? ''
export const setToken = (token) => localStorage.setItem(TOKEN_KEY, token)
export const clearToken = () => localStorage.removeItem(TOKEN_KEY)

/** A refused request: the problem+json the server answered (RFC 9457). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`)
    this.status = status
    this.problem = problem
  }
}

const listeners = new Set()
/** Called with every 401: the app then asks for a token. */
export const onUnauthorized = (listener) => {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

/** One API call: JSON in and out; a 4xx/5xx throws ApiError with the problem. */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = { accept: 'application/json' }
  const token = getToken()
  if (token) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  if (response.status === 401) for (const listener of listeners) listener()
  if (response.status === 204) return null
  const text = await response.text()
  const data = text ? JSON.parse(text) : null
  if (!response.ok) throw new ApiError(response.status, data)
  return data
}

/**
 * A live event stream (SSE). EventSource reconnects by itself and sends Last-Event-ID, so the server resumes after the
 * last event seen; the token goes as `?token=` (EventSource cannot send headers).
 */
export function stream(path, onEvent, types) {
  const url = new URL(path, location.origin)
  const token = getToken()
  if (token) url.searchParams.set('token', token)
  const source = new EventSource(url)
  for (const type of types) source.addEventListener(type, (message) => onEvent(JSON.parse(message.data)))
  return () => source.close()
}
