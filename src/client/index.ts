/** The Harmonia HTTP client (the package's `./client` entry): speaks the wire contract of API.md with global fetch. */
export { getHarmoniaClient, getHarmoniaStateClient, type HarmoniaClient, type HarmoniaStateClient } from './client.js'
export { HarmoniaApiError, type Problem, type ProblemFieldError } from './errors.js'
export { DEFAULT_URL, type ClientOptions } from './transport.js'
export { TERMINAL_EVENT_TYPES, type WatchOptions } from './watch.js'
export { parseSse, type SseFrame } from './sse.js'
export type * from './types.js'
