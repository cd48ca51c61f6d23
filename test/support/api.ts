/** A JSON client of a running Harmonia server, for tests that go through real HTTP. */

export type ApiAnswer = {
  status: number
  type: string
  /** The body as received (to check what it does not contain). */
  text: string
  body: any
}

export type CallOptions = { headers?: Record<string, string>; /** Sent as is instead of JSON.stringify(body). */ raw?: string }

/** `call(method, path, body?)` against `baseUrl()` (read at each call: the server may be restarted). */
export function apiClient(baseUrl: () => string, defaults: Record<string, string> = {}) {
  return async function call(method: string, path: string, body?: unknown, options: CallOptions = {}): Promise<ApiAnswer> {
    const payload = options.raw ?? (body === undefined ? undefined : JSON.stringify(body))
    const response = await fetch(baseUrl() + path, {
      method,
      headers: { ...defaults, ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
      ...(payload === undefined ? {} : { body: payload }),
    })
    const text = await response.text()
    let parsed: unknown = undefined
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      parsed = text
    }
    return { status: response.status, type: response.headers.get('content-type') ?? '', text, body: parsed }
  }
}
export type ApiCall = ReturnType<typeof apiClient>
