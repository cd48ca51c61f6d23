/**
 * Bad input (issue 4, "Bad input"): a table of malformed and hostile requests sent to a real listening server. Each
 * row names the exact status, the problem+json fields and, for a 422, the field paths in `errors[]`; after every
 * request the server must still answer GET /health. Nothing may produce a 500 (the logger would record it).
 * The table runs on the in-memory store, on PGlite and (with DATABASE_URL) on Postgres: some inputs (a lone surrogate,
 * an int4 overflow) only fail in SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../src/logger.js'
import type { Component } from '../../src/components/registry.js'
import { createSqlStore } from '../../src/db/sql.store.js'
import type { HarmoniaOptions } from '../../src/harmonia.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { drivers } from '../support/db.js'
import { deferred } from '../support/harness.js'

type Fixtures = {
  /** A workflow with a required integer input `n`. */
  workflow: string
  /** A completed execution of it. */
  done: string
  /** A template over a workflow with `${params.who}`: `who` (string, required), `count` (integer). */
  template: string
  /** A workflow whose task waits until the test releases it, and its running execution. */
  waiting: string
  running: string
}

/** A well-formed UUID (v7) that names nothing. */
const MISSING = '01890000-0000-7000-8000-000000000000'
const MiB = 1024 * 1024

const PROBLEM = 'https://harmonia.dev/problems/'
const T = {
  badRequest: `${PROBLEM}400`,
  route: `${PROBLEM}404`,
  method: `${PROBLEM}405`,
  tooLarge: `${PROBLEM}413`,
  mediaType: `${PROBLEM}415`,
  tooDeep: `${PROBLEM}422`,
  validation: `${PROBLEM}validation`,
  notFound: `${PROBLEM}not_found`,
  transition: `${PROBLEM}invalid_transition`,
  conflict: `${PROBLEM}conflict`,
} as const

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
}

type Body = string | ReadableStream<Uint8Array>

type Row = {
  name: string
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH'
  path: string | ((f: Fixtures) => string)
  body?: Body | ((f: Fixtures) => Body)
  /** Default `application/json` when there is a body; null sends none. */
  contentType?: string | null
  status: number
  /** The problem `type` (omitted for 2xx rows: hostile input the server accepts without harm). */
  type?: string
  detail?: RegExp
  /** For a 422: paths that `errors[]` must name (exactly these, in any order, unless `somePaths`). */
  paths?: string[]
  /** `paths` must be among the errors, others may be listed too. */
  somePaths?: boolean
}

const task = (fields: Record<string, unknown> = {}) => ({ id: 'a', component: 'harmonia', action: 'noop', ...fields })
/** A workflow body: valid unless `fields` break it. */
const workflow = (fields: Record<string, unknown> = {}) => JSON.stringify({ name: 'bad input', tasks: [task()], ...fields })
/** A workflow body with one task changed. */
const withTask = (fields: Record<string, unknown>) => workflow({ tasks: [task(fields)] })
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth)
/** A body of `bytes` bytes sent in chunks, without a content-length (chunked transfer encoding). */
const chunked = (bytes: number): ReadableStream<Uint8Array> => {
  let sent = 0
  const chunk = new TextEncoder().encode(' '.repeat(64 * 1024))
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close()
      sent += chunk.byteLength
      controller.enqueue(chunk)
    },
  })
}

const rows: Row[] = [
  // --- malformed JSON → 400
  {
    name: 'truncated JSON',
    method: 'POST',
    path: '/api/workflows',
    body: '{"name":',
    status: 400,
    type: T.badRequest,
    detail: /malformed JSON/,
  },
  {
    name: 'truncated string',
    method: 'POST',
    path: '/api/executions',
    body: '{"workflow_id": "01',
    status: 400,
    type: T.badRequest,
    detail: /malformed JSON/,
  },
  {
    name: 'unquoted keys',
    method: 'POST',
    path: '/api/workflows',
    body: "{name: 'x'}",
    status: 400,
    type: T.badRequest,
    detail: /malformed JSON/,
  },
  {
    name: 'trailing comma',
    method: 'POST',
    path: '/api/templates',
    body: '{"name":"t",}',
    status: 400,
    type: T.badRequest,
    detail: /malformed JSON/,
  },
  {
    name: 'not JSON at all',
    method: 'POST',
    path: '/api/checkpoints',
    body: 'hello',
    status: 400,
    type: T.badRequest,
    detail: /malformed JSON/,
  },
  {
    name: 'NaN literal',
    method: 'PUT',
    path: (f) => `/api/state/${f.done}`,
    body: '{"state":{"a":NaN}}',
    status: 400,
    type: T.badRequest,
    detail: /malformed JSON/,
  },
  {
    name: 'two JSON values',
    method: 'PUT',
    path: (f) => `/api/workflows/${f.workflow}`,
    body: '{"name":"x"}{}',
    status: 400,
    type: T.badRequest,
    detail: /malformed JSON/,
  },
  {
    name: 'NUL bytes around the JSON',
    method: 'POST',
    path: '/api/workflows',
    body: '\u0000{\u0000}',
    status: 400,
    type: T.badRequest,
    detail: /malformed JSON/,
  },
  {
    name: '1e309 (beyond a double) as a timeout',
    method: 'POST',
    path: '/api/workflows',
    body: '{"name":"x","timeout":1e309,"tasks":[{"id":"a","component":"harmonia","action":"noop"}]}',
    status: 400,
    type: T.badRequest,
    detail: /timeout is a number out of range/,
    paths: ['timeout'],
  },
  {
    name: '-1e400 in an execution input',
    method: 'POST',
    path: '/api/executions',
    body: (f) => `{"workflow_id":"${f.workflow}","input":{"n":-1e400}}`,
    status: 400,
    type: T.badRequest,
    detail: /input\.n is a number out of range/,
    paths: ['input.n'],
  },
  {
    name: 'a lone high surrogate in a name',
    method: 'POST',
    path: '/api/workflows',
    body: '{"name":"x \\ud800 y","tasks":[{"id":"a","component":"harmonia","action":"noop"}]}',
    status: 400,
    type: T.badRequest,
    detail: /name holds an unpaired UTF-16 surrogate/,
    paths: ['name'],
  },
  {
    name: 'a lone low surrogate in an execution input',
    method: 'POST',
    path: '/api/executions',
    body: (f) => `{"workflow_id":"${f.workflow}","input":{"n":1,"s":["ok","\\udc00"]}}`,
    status: 400,
    type: T.badRequest,
    detail: /unpaired UTF-16 surrogate/,
    paths: ['input.s[1]'],
  },
  {
    name: 'a lone surrogate in a state key',
    method: 'PUT',
    path: (f) => `/api/state/${f.done}`,
    body: '{"state":{"\\ud83d":1}}',
    status: 400,
    type: T.badRequest,
    detail: /key with an unpaired UTF-16 surrogate/,
    paths: ['state["\\ud83d"]'],
  },

  // --- content type → 415
  {
    name: 'text/plain',
    method: 'POST',
    path: '/api/workflows',
    body: workflow(),
    contentType: 'text/plain',
    status: 415,
    type: T.mediaType,
    detail: /expected application\/json, got text\/plain/,
  },
  {
    name: 'a form body',
    method: 'POST',
    path: '/api/executions',
    body: (f) => `workflow_id=${f.workflow}`,
    contentType: 'application/x-www-form-urlencoded',
    status: 415,
    type: T.mediaType,
    detail: /got application\/x-www-form-urlencoded/,
  },
  {
    name: 'multipart',
    method: 'PUT',
    path: (f) => `/api/state/${f.done}`,
    body: '{"state":{}}',
    contentType: 'multipart/form-data; boundary=x',
    status: 415,
    type: T.mediaType,
    detail: /got multipart\/form-data/,
  },
  {
    name: 'application/xml',
    method: 'POST',
    path: '/api/templates',
    body: '<template/>',
    contentType: 'application/xml',
    status: 415,
    type: T.mediaType,
    detail: /got application\/xml/,
  },

  // --- empty, null, arrays and scalars where an object is required → 422 naming the body
  {
    name: 'empty body (workflow)',
    method: 'POST',
    path: '/api/workflows',
    status: 422,
    type: T.validation,
    detail: /must be a JSON object/,
    paths: [''],
  },
  {
    name: 'empty body (execution)',
    method: 'POST',
    path: '/api/executions',
    body: '',
    status: 422,
    type: T.validation,
    detail: /must be a JSON object/,
    paths: [''],
  },
  {
    name: 'whitespace body (checkpoint)',
    method: 'POST',
    path: '/api/checkpoints',
    body: ' \n\t ',
    status: 422,
    type: T.validation,
    detail: /must be a JSON object/,
    paths: [''],
  },
  {
    name: 'null body',
    method: 'POST',
    path: '/api/workflows',
    body: 'null',
    status: 422,
    type: T.validation,
    detail: /must be a JSON object/,
    paths: [''],
  },
  {
    name: 'array body (workflow)',
    method: 'POST',
    path: '/api/workflows',
    body: '[]',
    status: 422,
    type: T.validation,
    detail: /must be a JSON object/,
    paths: [''],
  },
  {
    name: 'array of the right object',
    method: 'POST',
    path: '/api/executions',
    body: (f) => JSON.stringify([{ workflow_id: f.workflow, input: { n: 1 } }]),
    status: 422,
    type: T.validation,
    detail: /must be a JSON object/,
    paths: [''],
  },
  {
    name: 'string body',
    method: 'POST',
    path: '/api/templates',
    body: '"template"',
    status: 422,
    type: T.validation,
    detail: /must be a JSON object/,
    paths: [''],
  },
  {
    name: 'number body',
    method: 'PUT',
    path: (f) => `/api/state/${f.done}`,
    body: '42',
    status: 422,
    type: T.validation,
    detail: /must be a JSON object/,
    paths: [''],
  },
  {
    name: 'boolean body',
    method: 'POST',
    path: '/api/checkpoints',
    body: 'true',
    status: 422,
    type: T.validation,
    detail: /must be a JSON object/,
    paths: [''],
  },
  {
    name: 'null instantiate body',
    method: 'POST',
    path: (f) => `/api/templates/${f.template}/instantiate`,
    body: 'null',
    status: 422,
    type: T.validation,
    detail: /must be a JSON object/,
    paths: [''],
  },
  {
    name: 'array PUT workflow',
    method: 'PUT',
    path: (f) => `/api/workflows/${f.workflow}`,
    body: '[{"name":"x"}]',
    status: 422,
    type: T.validation,
    detail: /must be a JSON object/,
    paths: [''],
  },

  // --- workflows: missing fields
  {
    name: 'workflow without name',
    method: 'POST',
    path: '/api/workflows',
    body: JSON.stringify({ tasks: [task()] }),
    status: 422,
    type: T.validation,
    detail: /name is required/,
    paths: ['name'],
  },
  {
    name: 'workflow without tasks',
    method: 'POST',
    path: '/api/workflows',
    body: JSON.stringify({ name: 'x' }),
    status: 422,
    type: T.validation,
    detail: /tasks/,
    paths: ['tasks'],
  },
  {
    name: 'task without component',
    method: 'POST',
    path: '/api/workflows',
    body: JSON.stringify({ name: 'x', tasks: [{ id: 'a', action: 'noop' }] }),
    status: 422,
    type: T.validation,
    detail: /task "a": component is required/,
    paths: ['tasks[0].component'],
  },
  {
    name: 'task without action',
    method: 'POST',
    path: '/api/workflows',
    body: JSON.stringify({ name: 'x', tasks: [{ id: 'a', component: 'harmonia' }] }),
    status: 422,
    type: T.validation,
    detail: /action is required/,
    paths: ['tasks[0].action'],
  },
  {
    name: 'task without id',
    method: 'POST',
    path: '/api/workflows',
    body: JSON.stringify({ name: 'x', tasks: [{ component: 'harmonia', action: 'noop' }] }),
    status: 422,
    type: T.validation,
    detail: /id is required/,
    paths: ['tasks[0].id'],
  },

  // --- workflows: wrong types, field by field
  {
    name: 'name: number',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ name: 42 }),
    status: 422,
    type: T.validation,
    detail: /name must be a string/,
    paths: ['name'],
  },
  {
    name: 'name: empty',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ name: '' }),
    status: 422,
    type: T.validation,
    detail: /name must not be empty/,
    paths: ['name'],
  },
  {
    name: 'description: array',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ description: [] }),
    status: 422,
    type: T.validation,
    detail: /description must be a string/,
    paths: ['description'],
  },
  {
    name: 'version: object',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ version: {} }),
    status: 422,
    type: T.validation,
    detail: /version must be a string or a number/,
    paths: ['version'],
  },
  {
    name: 'workflow metadata: string',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ metadata: 'x' }),
    status: 422,
    type: T.validation,
    detail: /metadata must be an object/,
    paths: ['metadata'],
  },
  {
    name: 'workflow input: string',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ input: 'n' }),
    status: 422,
    type: T.validation,
    detail: /input must be an object of input fields/,
    paths: ['input'],
  },
  {
    name: 'input field: bad type',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ input: { n: { type: 'bogus' } } }),
    status: 422,
    type: T.validation,
    detail: /input\.n\.type must be one of string, number/,
    paths: ['input.n.type'],
  },
  {
    name: 'input field: required not a boolean',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ input: { n: { required: 'yes' } } }),
    status: 422,
    type: T.validation,
    detail: /must be true or false/,
    paths: ['input.n.required'],
  },
  {
    name: 'input field: default of the wrong type',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ input: { n: { type: 'integer', default: 'ten' } } }),
    status: 422,
    type: T.validation,
    detail: /input\.n\.default must be an integer/,
    paths: ['input.n.default'],
  },
  {
    name: 'output: number',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ output: 5 }),
    status: 422,
    type: T.validation,
    detail: /output must be an object/,
    paths: ['output'],
  },
  {
    name: 'tasks: string',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ tasks: 'a,b' }),
    status: 422,
    type: T.validation,
    detail: /tasks must be a list of tasks/,
    paths: ['tasks'],
  },
  {
    name: 'tasks[0]: number',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ tasks: [5] }),
    status: 422,
    type: T.validation,
    detail: /must be an object/,
    paths: ['tasks[0]'],
  },
  {
    name: 'max_concurrency: fraction',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ max_concurrency: 1.5 }),
    status: 422,
    type: T.validation,
    detail: /max_concurrency must be a whole number/,
    paths: ['max_concurrency'],
  },
  {
    name: 'max_concurrency: 0',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ max_concurrency: 0 }),
    status: 422,
    type: T.validation,
    detail: /max_concurrency must be at least 1/,
    paths: ['max_concurrency'],
  },
  {
    name: 'timeout: 0',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ timeout: 0 }),
    status: 422,
    type: T.validation,
    detail: /timeout must be greater than 0 seconds/,
    paths: ['timeout'],
  },
  {
    name: 'timeout: string',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ timeout: '10' }),
    status: 422,
    type: T.validation,
    detail: /timeout must be a number of seconds/,
    paths: ['timeout'],
  },
  {
    name: 'fail_fast: string',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ fail_fast: 'yes' }),
    status: 422,
    type: T.validation,
    detail: /fail_fast must be true or false/,
    paths: ['fail_fast'],
  },
  {
    name: 'task id: number',
    method: 'POST',
    path: '/api/workflows',
    body: withTask({ id: 7 }),
    status: 422,
    type: T.validation,
    detail: /id must be a string/,
    paths: ['tasks[0].id'],
  },
  {
    name: 'task name: number',
    method: 'POST',
    path: '/api/workflows',
    body: withTask({ name: 7 }),
    status: 422,
    type: T.validation,
    detail: /task "a": name must be a string/,
    paths: ['tasks[0].name'],
  },
  {
    name: 'task component: number',
    method: 'POST',
    path: '/api/workflows',
    body: withTask({ component: 5 }),
    status: 422,
    type: T.validation,
    detail: /task "a": component must be a string/,
    paths: ['tasks[0].component'],
  },
  {
    name: 'task action: null',
    method: 'POST',
    path: '/api/workflows',
    body: withTask({ action: null }),
    status: 422,
    type: T.validation,
    detail: /task "a": action must be a string/,
    paths: ['tasks[0].action'],
  },
  {
    name: 'task depends_on: string',
    method: 'POST',
    path: '/api/workflows',
    body: withTask({ depends_on: 'b' }),
    status: 422,
    type: T.validation,
    detail: /depends_on must be a list of task ids/,
    paths: ['tasks[0].depends_on'],
  },
  {
    name: 'task timeout: negative',
    method: 'POST',
    path: '/api/workflows',
    body: withTask({ timeout: -1 }),
    status: 422,
    type: T.validation,
    detail: /task "a": timeout must be greater than 0 seconds/,
    paths: ['tasks[0].timeout'],
  },
  {
    name: 'task retry: string',
    method: 'POST',
    path: '/api/workflows',
    body: withTask({ retry: '3' }),
    status: 422,
    type: T.validation,
    detail: /retry must be a number of retries or a retry policy object/,
    paths: ['tasks[0].retry'],
  },
  {
    name: 'task retry: negative',
    method: 'POST',
    path: '/api/workflows',
    body: withTask({ retry: -1 }),
    status: 422,
    type: T.validation,
    detail: /retry/,
    paths: ['tasks[0].retry'],
  },
  {
    name: 'task retry.max_attempts: 0',
    method: 'POST',
    path: '/api/workflows',
    body: withTask({ retry: { max_attempts: 0 } }),
    status: 422,
    type: T.validation,
    detail: /max_attempts must be at least 1/,
    paths: ['tasks[0].retry.max_attempts'],
  },
  {
    name: 'task retry.jitter: 2',
    method: 'POST',
    path: '/api/workflows',
    body: withTask({ retry: { jitter: 2 } }),
    status: 422,
    type: T.validation,
    detail: /jitter/,
    paths: ['tasks[0].retry.jitter'],
  },
  {
    name: 'task when: number',
    method: 'POST',
    path: '/api/workflows',
    body: withTask({ when: 5 }),
    status: 422,
    type: T.validation,
    detail: /when must be a string/,
    paths: ['tasks[0].when'],
  },
  {
    name: 'task metadata: array',
    method: 'POST',
    path: '/api/workflows',
    body: withTask({ metadata: [] }),
    status: 422,
    type: T.validation,
    detail: /metadata must be an object/,
    paths: ['tasks[0].metadata'],
  },
  {
    name: 'unregistered component',
    method: 'POST',
    path: '/api/workflows',
    body: withTask({ component: 'nope' }),
    status: 422,
    type: T.validation,
    detail: /component "nope" is not registered/,
    paths: ['tasks[0].component'],
  },
  {
    name: 'unknown action',
    method: 'POST',
    path: '/api/workflows',
    body: withTask({ action: 'explode' }),
    status: 422,
    type: T.validation,
    detail: /component "harmonia" has no action "explode"/,
    paths: ['tasks[0].action'],
  },
  {
    name: 'several errors at once',
    method: 'POST',
    path: '/api/workflows',
    body: JSON.stringify({ name: 1, tasks: [{ id: 'a', component: 2, action: 'noop', timeout: 'x' }] }),
    status: 422,
    type: T.validation,
    detail: /name must be a string/,
    paths: ['name', 'tasks[0].component', 'tasks[0].timeout'],
  },
  {
    name: 'PUT with a wrong type',
    method: 'PUT',
    path: (f) => `/api/workflows/${f.workflow}`,
    body: withTask({ depends_on: [1] }),
    status: 422,
    type: T.validation,
    detail: /depends_on/,
    paths: ['tasks[0].depends_on[0]'],
  },

  // --- huge numbers
  {
    name: 'timeout: 1e308',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ timeout: 1e308 }),
    status: 422,
    type: T.validation,
    detail: /timeout must be at most 2147483 seconds/,
    paths: ['timeout'],
  },
  {
    name: 'task timeout: 1e308',
    method: 'POST',
    path: '/api/workflows',
    body: withTask({ timeout: 1e308 }),
    status: 422,
    type: T.validation,
    detail: /task "a": timeout must be at most/,
    paths: ['tasks[0].timeout'],
  },
  {
    name: 'retry.max_interval: 1e308',
    method: 'POST',
    path: '/api/workflows',
    body: withTask({ retry: { max_attempts: 3, initial_interval: 1e308, max_interval: 1e308 } }),
    status: 422,
    type: T.validation,
    detail: /retry\.max_interval must be at most/,
    paths: ['tasks[0].retry.initial_interval', 'tasks[0].retry.max_interval'],
  },
  {
    name: 'timeout: 30 days',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ timeout: 30 * 86_400 }),
    status: 422,
    type: T.validation,
    detail: /about 24\.8 days/,
    paths: ['timeout'],
  },
  {
    name: 'execution version: 1e308',
    method: 'POST',
    path: '/api/executions',
    body: (f) => JSON.stringify({ workflow_id: f.workflow, version: 1e308 }),
    status: 404,
    type: T.notFound,
    detail: /workflow version 1e\+308 of/,
  },
  {
    name: 'execution version: 2^31',
    method: 'POST',
    path: '/api/executions',
    body: (f) => JSON.stringify({ workflow_id: f.workflow, version: 2 ** 31 }),
    status: 404,
    type: T.notFound,
    detail: /workflow version 2147483648 of/,
  },
  {
    name: '?version=2^31',
    method: 'GET',
    path: (f) => `/api/workflows/${f.workflow}?version=2147483648`,
    status: 404,
    type: T.notFound,
    detail: /workflow version 2147483648 of/,
  },
  {
    name: '?version=15 digits',
    method: 'GET',
    path: (f) => `/api/workflows/${f.workflow}?version=999999999999999`,
    status: 404,
    type: T.notFound,
    detail: /not found/,
  },
  {
    name: '?version=0',
    method: 'GET',
    path: (f) => `/api/workflows/${f.workflow}?version=0`,
    status: 404,
    type: T.notFound,
    detail: /workflow version 0 of/,
  },
  {
    name: '?version=16 digits',
    method: 'GET',
    path: (f) => `/api/workflows/${f.workflow}?version=9999999999999999`,
    status: 422,
    type: T.validation,
    detail: /version must be an integer/,
    paths: ['version'],
  },

  // --- task graph
  {
    name: 'dependency cycle',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ tasks: [task({ id: 'a', depends_on: ['b'] }), task({ id: 'b', depends_on: ['a'] })] }),
    status: 422,
    type: T.validation,
    detail: /closes a dependency cycle: a → b → a/,
    paths: ['tasks[0].depends_on[0]'],
  },
  {
    name: 'three-task cycle',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({
      tasks: [task({ id: 'a', depends_on: ['c'] }), task({ id: 'b', depends_on: ['a'] }), task({ id: 'c', depends_on: ['b'] })],
    }),
    status: 422,
    type: T.validation,
    detail: /dependency cycle: a → c → b → a/,
    paths: ['tasks[0].depends_on[0]'],
  },
  {
    name: 'self dependency',
    method: 'POST',
    path: '/api/workflows',
    body: withTask({ depends_on: ['a'] }),
    status: 422,
    type: T.validation,
    detail: /names the task itself/,
    paths: ['tasks[0].depends_on[0]'],
  },
  {
    name: 'unknown dependency',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ tasks: [task({ id: 'a' }), task({ id: 'b', depends_on: ['a', 'ghost'] })] }),
    status: 422,
    type: T.validation,
    detail: /depends_on\[1\] names unknown task "ghost"/,
    paths: ['tasks[1].depends_on[1]'],
  },
  {
    name: 'duplicate task ids',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ tasks: [task({ id: 'a' }), task({ id: 'b' }), task({ id: 'a' })] }),
    status: 422,
    type: T.validation,
    detail: /id "a" is already used by tasks\[0\]/,
    paths: ['tasks[2].id'],
  },
  {
    name: 'map form: id differs from its key',
    method: 'POST',
    path: '/api/workflows',
    body: JSON.stringify({ name: 'x', tasks: { a: { id: 'b', component: 'harmonia', action: 'noop' } } }),
    status: 422,
    type: T.validation,
    detail: /does not match its key "a"/,
    paths: ['tasks[0].id'],
  },

  // --- expressions
  {
    name: 'unterminated ${',
    method: 'POST',
    path: '/api/workflows',
    body: withTask({ input: '${tasks.' }),
    status: 422,
    type: T.validation,
    detail: /unterminated/,
    paths: ['tasks[0].input'],
  },
  {
    name: 'bad CEL in when',
    method: 'POST',
    path: '/api/workflows',
    body: withTask({ when: '1 +' }),
    status: 422,
    type: T.validation,
    detail: /invalid expression/,
    paths: ['tasks[0].when'],
  },
  {
    name: 'bad CEL deep in an input',
    method: 'POST',
    path: '/api/workflows',
    body: withTask({ input: { list: [{ x: '${input.n +* 2}' }] } }),
    status: 422,
    type: T.validation,
    detail: /invalid expression/,
    paths: ['tasks[0].input.list[0].x'],
  },
  {
    name: 'reads a task that is not upstream',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ tasks: [task({ id: 'a', input: { x: '${tasks.b.output}' } }), task({ id: 'b' })] }),
    status: 422,
    type: T.validation,
    detail: /reads tasks\.b, but "b" is not upstream of "a"/,
    paths: ['tasks[0].input.x'],
  },
  {
    name: 'output reads an unknown task',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ output: { r: '${tasks.ghost.output}' } }),
    status: 422,
    type: T.validation,
    detail: /there is no task "ghost"/,
    paths: ['output.r'],
  },

  // --- executions
  {
    name: 'execution without workflow_id',
    method: 'POST',
    path: '/api/executions',
    body: '{}',
    status: 422,
    type: T.validation,
    detail: /workflow_id/,
    paths: ['workflow_id'],
  },
  {
    name: 'workflow_id: number',
    method: 'POST',
    path: '/api/executions',
    body: '{"workflow_id":5}',
    status: 422,
    type: T.validation,
    detail: /workflow_id must be a string/,
    paths: ['workflow_id'],
  },
  {
    name: 'workflow_id: not a UUID',
    method: 'POST',
    path: '/api/executions',
    body: '{"workflow_id":"abc"}',
    status: 422,
    type: T.validation,
    detail: /workflow_id must be a UUID/,
    paths: ['workflow_id'],
  },
  {
    name: 'workflow_id: SQL in it',
    method: 'POST',
    path: '/api/executions',
    body: JSON.stringify({ workflow_id: "' OR 1=1 --" }),
    status: 422,
    type: T.validation,
    detail: /workflow_id must be a UUID/,
    paths: ['workflow_id'],
  },
  {
    name: 'unknown workflow',
    method: 'POST',
    path: '/api/executions',
    body: JSON.stringify({ workflow_id: MISSING }),
    status: 404,
    type: T.notFound,
    detail: /workflow 01890000-0000-7000-8000-000000000000 not found/,
  },
  {
    name: 'required input missing',
    method: 'POST',
    path: '/api/executions',
    body: (f) => JSON.stringify({ workflow_id: f.workflow }),
    status: 422,
    type: T.validation,
    detail: /input\.n is required/,
    paths: ['input.n'],
  },
  {
    name: 'input of the wrong type',
    method: 'POST',
    path: '/api/executions',
    body: (f) => JSON.stringify({ workflow_id: f.workflow, input: { n: 'seven' } }),
    status: 422,
    type: T.validation,
    detail: /input\.n must be an integer, got the string "seven"/,
    paths: ['input.n'],
  },
  {
    name: 'execution input: array',
    method: 'POST',
    path: '/api/executions',
    body: (f) => JSON.stringify({ workflow_id: f.workflow, input: [1] }),
    status: 422,
    type: T.validation,
    detail: /input must be an object/,
    paths: ['input'],
  },
  {
    name: 'input: null n',
    method: 'POST',
    path: '/api/executions',
    body: (f) => JSON.stringify({ workflow_id: f.workflow, input: { n: null } }),
    status: 422,
    type: T.validation,
    detail: /input\.n must be an integer, got null/,
    paths: ['input.n'],
  },
  {
    name: 'version: string',
    method: 'POST',
    path: '/api/executions',
    body: (f) => JSON.stringify({ workflow_id: f.workflow, version: '1' }),
    status: 422,
    type: T.validation,
    detail: /version must be a number/,
    paths: ['version'],
  },
  {
    name: 'version: 0',
    method: 'POST',
    path: '/api/executions',
    body: (f) => JSON.stringify({ workflow_id: f.workflow, version: 0 }),
    status: 422,
    type: T.validation,
    paths: ['version'],
  },
  {
    name: 'version: unknown',
    method: 'POST',
    path: '/api/executions',
    body: (f) => JSON.stringify({ workflow_id: f.workflow, version: 99 }),
    status: 404,
    type: T.notFound,
    detail: /workflow version 99 of/,
  },
  {
    name: 'execution metadata: string',
    method: 'POST',
    path: '/api/executions',
    body: (f) => JSON.stringify({ workflow_id: f.workflow, metadata: 'x' }),
    status: 422,
    type: T.validation,
    detail: /metadata must be an object/,
    paths: ['metadata'],
  },
  {
    name: 'NUL character in an input',
    method: 'POST',
    path: '/api/executions',
    body: (f) => JSON.stringify({ workflow_id: f.workflow, input: { n: 1, s: 'a\u0000b' } }),
    status: 422,
    type: T.validation,
    detail: /NUL/,
    paths: ['input.s'],
  },

  // --- templates
  {
    name: 'template without anything',
    method: 'POST',
    path: '/api/templates',
    body: '{}',
    status: 422,
    type: T.validation,
    paths: ['name', 'workflow_definition_id'],
  },
  {
    name: 'template name: number',
    method: 'POST',
    path: '/api/templates',
    body: (f) => JSON.stringify({ name: 5, workflow_definition_id: f.workflow }),
    status: 422,
    type: T.validation,
    paths: ['name'],
  },
  {
    name: 'template name: blank',
    method: 'POST',
    path: '/api/templates',
    body: (f) => JSON.stringify({ name: '   ', workflow_definition_id: f.workflow }),
    status: 422,
    type: T.validation,
    detail: /name must not be empty/,
    paths: ['name'],
  },
  {
    name: 'workflow_definition_id: not a UUID',
    method: 'POST',
    path: '/api/templates',
    body: JSON.stringify({ name: 't', workflow_definition_id: 'x' }),
    status: 422,
    type: T.validation,
    detail: /must be a UUID/,
    paths: ['workflow_definition_id'],
  },
  {
    name: 'workflow_definition_id: unknown',
    method: 'POST',
    path: '/api/templates',
    body: JSON.stringify({ name: 't', workflow_definition_id: MISSING }),
    status: 422,
    type: T.validation,
    detail: /does not exist/,
    paths: ['workflow_definition_id'],
  },
  {
    name: 'parameters: string',
    method: 'POST',
    path: '/api/templates',
    body: (f) => JSON.stringify({ name: 't', workflow_definition_id: f.workflow, parameters: 'who' }),
    status: 422,
    type: T.validation,
    paths: ['parameters'],
  },
  {
    name: 'parameter type: bogus',
    method: 'POST',
    path: '/api/templates',
    body: (f) => JSON.stringify({ name: 't', workflow_definition_id: f.workflow, parameters: { who: { type: 'bogus' } } }),
    status: 422,
    type: T.validation,
    detail: /must be one of string/,
    paths: ['parameters.who.type'],
  },
  {
    name: 'description: number',
    method: 'POST',
    path: '/api/templates',
    body: (f) => JSON.stringify({ name: 't', workflow_definition_id: f.workflow, description: 1 }),
    status: 422,
    type: T.validation,
    paths: ['description'],
  },
  {
    name: 'instantiate: required parameter missing',
    method: 'POST',
    path: (f) => `/api/templates/${f.template}/instantiate`,
    body: '{}',
    status: 422,
    type: T.validation,
    detail: /parameter_values\.who is required/,
    paths: ['parameter_values.who'],
  },
  {
    name: 'instantiate: wrong type',
    method: 'POST',
    path: (f) => `/api/templates/${f.template}/instantiate`,
    body: JSON.stringify({ parameter_values: { who: 'x', count: 1.5 } }),
    status: 422,
    type: T.validation,
    detail: /parameter_values\.count must be an integer/,
    paths: ['parameter_values.count'],
  },
  {
    name: 'instantiate: parameter_values number',
    method: 'POST',
    path: (f) => `/api/templates/${f.template}/instantiate`,
    body: '{"parameter_values":7}',
    status: 422,
    type: T.validation,
    paths: ['parameter_values'],
  },
  {
    name: 'instantiate: name empty',
    method: 'POST',
    path: (f) => `/api/templates/${f.template}/instantiate`,
    body: '{"parameter_values":{"who":"w"},"name":""}',
    status: 422,
    type: T.validation,
    detail: /name must not be empty/,
    paths: ['name'],
  },
  {
    name: 'instantiate: unknown template',
    method: 'POST',
    path: `/api/templates/${MISSING}/instantiate`,
    body: '{}',
    status: 404,
    type: T.notFound,
    detail: /template .* not found/,
  },

  // --- state and checkpoints
  {
    name: 'state missing',
    method: 'PUT',
    path: (f) => `/api/state/${f.done}`,
    body: '{}',
    status: 422,
    type: T.validation,
    paths: ['state'],
  },
  {
    name: 'state: array',
    method: 'PUT',
    path: (f) => `/api/state/${f.done}`,
    body: '{"state":[1]}',
    status: 422,
    type: T.validation,
    detail: /state must be a JSON object/,
    paths: ['state'],
  },
  {
    name: 'state: string',
    method: 'PUT',
    path: (f) => `/api/state/${f.done}`,
    body: '{"state":"x"}',
    status: 422,
    type: T.validation,
    paths: ['state'],
  },
  {
    name: 'state: null',
    method: 'PUT',
    path: (f) => `/api/state/${f.done}`,
    body: '{"state":null}',
    status: 422,
    type: T.validation,
    paths: ['state'],
  },
  {
    name: 'state of an unknown execution',
    method: 'PUT',
    path: `/api/state/${MISSING}`,
    body: '{"state":{}}',
    status: 404,
    type: T.notFound,
    detail: /execution .* not found/,
  },
  {
    name: 'state of a malformed id',
    method: 'PUT',
    path: '/api/state/xyz',
    body: '{"state":{}}',
    status: 404,
    type: T.notFound,
    detail: /execution xyz not found/,
  },
  {
    name: 'checkpoint without execution_id',
    method: 'POST',
    path: '/api/checkpoints',
    body: '{}',
    status: 422,
    type: T.validation,
    paths: ['execution_id'],
  },
  {
    name: 'checkpoint execution_id: number',
    method: 'POST',
    path: '/api/checkpoints',
    body: '{"execution_id":5}',
    status: 422,
    type: T.validation,
    detail: /execution_id must be a string/,
    paths: ['execution_id'],
  },
  {
    name: 'checkpoint execution_id: not a UUID',
    method: 'POST',
    path: '/api/checkpoints',
    body: '{"execution_id":"e-1"}',
    status: 422,
    type: T.validation,
    detail: /execution_id must be a UUID/,
    paths: ['execution_id'],
  },
  {
    name: 'checkpoint of an unknown execution',
    method: 'POST',
    path: '/api/checkpoints',
    body: JSON.stringify({ execution_id: MISSING }),
    status: 404,
    type: T.notFound,
    detail: /execution .* not found/,
  },

  // --- unknown ids and malformed ids → 404
  {
    name: 'GET unknown workflow',
    method: 'GET',
    path: `/api/workflows/${MISSING}`,
    status: 404,
    type: T.notFound,
    detail: /workflow .* not found/,
  },
  {
    name: 'PUT unknown workflow',
    method: 'PUT',
    path: `/api/workflows/${MISSING}`,
    body: workflow(),
    status: 404,
    type: T.notFound,
    detail: /workflow .* not found/,
  },
  {
    name: 'DELETE unknown workflow',
    method: 'DELETE',
    path: `/api/workflows/${MISSING}`,
    status: 404,
    type: T.notFound,
    detail: /workflow .* not found/,
  },
  {
    name: 'GET unknown execution',
    method: 'GET',
    path: `/api/executions/${MISSING}`,
    status: 404,
    type: T.notFound,
    detail: /execution .* not found/,
  },
  {
    name: 'cancel unknown execution',
    method: 'POST',
    path: `/api/executions/${MISSING}/cancel`,
    status: 404,
    type: T.notFound,
    detail: /execution .* not found/,
  },
  {
    name: 'pause unknown execution',
    method: 'POST',
    path: `/api/executions/${MISSING}/pause`,
    status: 404,
    type: T.notFound,
    detail: /execution .* not found/,
  },
  {
    name: 'resume unknown execution',
    method: 'POST',
    path: `/api/executions/${MISSING}/resume`,
    status: 404,
    type: T.notFound,
    detail: /execution .* not found/,
  },
  {
    name: 'history of unknown execution',
    method: 'GET',
    path: `/api/executions/${MISSING}/history`,
    status: 404,
    type: T.notFound,
    detail: /execution .* not found/,
  },
  {
    name: 'GET unknown template',
    method: 'GET',
    path: `/api/templates/${MISSING}`,
    status: 404,
    type: T.notFound,
    detail: /template .* not found/,
  },
  {
    name: 'GET state of unknown execution',
    method: 'GET',
    path: `/api/state/${MISSING}`,
    status: 404,
    type: T.notFound,
    detail: /execution .* not found/,
  },
  {
    name: 'GET unknown checkpoint',
    method: 'GET',
    path: `/api/checkpoints/${MISSING}`,
    status: 404,
    type: T.notFound,
    detail: /checkpoint .* not found/,
  },
  {
    name: 'restore unknown checkpoint',
    method: 'POST',
    path: `/api/checkpoints/${MISSING}/restore`,
    status: 404,
    type: T.notFound,
    detail: /checkpoint .* not found/,
  },
  {
    name: 'SSE of unknown execution',
    method: 'GET',
    path: `/events/executions/${MISSING}`,
    status: 404,
    type: T.notFound,
    detail: /execution .* not found/,
  },
  {
    name: 'v1: unknown execution',
    method: 'GET',
    path: `/api/v1/executions/${MISSING}`,
    status: 404,
    type: T.notFound,
    detail: /execution .* not found/,
  },
  {
    name: 'malformed workflow id',
    method: 'GET',
    path: '/api/workflows/not-a-uuid',
    status: 404,
    type: T.notFound,
    detail: /workflow not-a-uuid not found/,
  },
  {
    name: 'malformed execution id (number)',
    method: 'GET',
    path: '/api/executions/123',
    status: 404,
    type: T.notFound,
    detail: /execution 123 not found/,
  },
  {
    name: 'UUID with a bad variant',
    method: 'GET',
    path: '/api/executions/01890000-0000-7000-0000-00000000000g',
    status: 404,
    type: T.notFound,
  },
  {
    name: 'id with SQL in it',
    method: 'GET',
    path: `/api/templates/${encodeURIComponent("' OR '1'='1")}`,
    status: 404,
    type: T.notFound,
    detail: /template .* not found/,
  },
  { name: 'pause a malformed id', method: 'POST', path: '/api/executions/%00/pause', status: 404, type: T.notFound },
  {
    name: 'malformed checkpoint id',
    method: 'POST',
    path: '/api/checkpoints/zz/restore',
    status: 404,
    type: T.notFound,
    detail: /checkpoint zz not found/,
  },
  {
    name: 'SSE of a malformed id',
    method: 'GET',
    path: '/events/executions/zzz',
    status: 404,
    type: T.notFound,
    detail: /execution zzz not found/,
  },
  {
    name: 'a method the route does not serve',
    method: 'PATCH',
    path: (f) => `/api/workflows/${f.workflow}`,
    body: '{}',
    status: 405,
    type: T.method,
    detail: /PATCH is not allowed on \/api\/workflows\/.*; it accepts GET, HEAD, PUT, DELETE/,
  },
  {
    name: 'no such route',
    method: 'PATCH',
    path: '/api/workflows-and-more',
    body: '{}',
    status: 404,
    type: T.route,
    detail: /no route for PATCH/,
  },

  // --- oversized bodies → 413
  {
    name: 'body over 1 MiB',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ description: 'x'.repeat(MiB) }),
    status: 413,
    type: T.tooLarge,
    detail: /larger than 1048576 bytes/,
  },
  {
    name: 'state over 1 MiB',
    method: 'PUT',
    path: (f) => `/api/state/${f.done}`,
    body: JSON.stringify({ state: { blob: 'y'.repeat(MiB + 10) } }),
    status: 413,
    type: T.tooLarge,
    detail: /larger than/,
  },
  {
    name: 'chunked body over 1 MiB (no content-length)',
    method: 'POST',
    path: '/api/executions',
    body: () => chunked(2 * MiB),
    status: 413,
    type: T.tooLarge,
    detail: /larger than 1048576 bytes/,
  },

  // --- deep nesting → 422, never a stack overflow
  {
    name: '10,000 nested arrays',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ metadata: { deep: '@' } }).replace('"@"', nested(10_000)),
    status: 422,
    type: T.tooDeep,
    detail: /nested deeper than 64 levels/,
    paths: [''],
  },
  {
    name: '500,000 nested arrays',
    method: 'POST',
    path: '/api/executions',
    body: nested(500_000),
    status: 422,
    type: T.tooDeep,
    detail: /nested deeper than 64/,
    paths: [''],
  },
  {
    name: '10,000 nested objects',
    method: 'PUT',
    path: (f) => `/api/state/${f.done}`,
    body: '{"state":' + '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_001),
    status: 422,
    type: T.tooDeep,
    detail: /nested deeper than 64/,
    paths: [''],
  },

  // --- bad query parameters
  {
    name: 'limit=abc',
    method: 'GET',
    path: '/api/executions?limit=abc',
    status: 422,
    type: T.validation,
    detail: /limit must be an integer/,
    paths: ['limit'],
  },
  {
    name: 'limit=0',
    method: 'GET',
    path: '/api/executions?limit=0',
    status: 422,
    type: T.validation,
    detail: /from 1 to 1000/,
    paths: ['limit'],
  },
  {
    name: 'limit=5000',
    method: 'GET',
    path: '/api/executions?limit=5000',
    status: 422,
    type: T.validation,
    detail: /from 1 to 1000/,
    paths: ['limit'],
  },
  { name: 'limit=-1', method: 'GET', path: '/api/workflows?limit=-1', status: 422, type: T.validation, paths: ['limit'] },
  {
    name: 'limit=1e3',
    method: 'GET',
    path: '/api/templates?limit=1e3',
    status: 422,
    type: T.validation,
    detail: /limit must be an integer/,
    paths: ['limit'],
  },
  {
    name: 'limit=20 digits',
    method: 'GET',
    path: '/api/checkpoints?limit=99999999999999999999',
    status: 422,
    type: T.validation,
    paths: ['limit'],
  },
  {
    name: 'offset=-5',
    method: 'GET',
    path: '/api/workflows?offset=-5',
    status: 422,
    type: T.validation,
    detail: /non-negative/,
    paths: ['offset'],
  },
  { name: 'offset=1.5', method: 'GET', path: '/api/executions?offset=1.5', status: 422, type: T.validation, paths: ['offset'] },
  {
    name: 'status=bogus',
    method: 'GET',
    path: '/api/executions?status=bogus',
    status: 422,
    type: T.validation,
    detail: /status must be one of pending, running/,
    paths: ['status'],
  },
  {
    name: 'status=RUNNING (case)',
    method: 'GET',
    path: '/api/v1/executions?status=RUNNING',
    status: 422,
    type: T.validation,
    paths: ['status'],
  },
  {
    name: 'limit and status both bad',
    method: 'GET',
    path: '/api/executions?status=x&limit=y',
    status: 422,
    type: T.validation,
    somePaths: true,
    paths: ['status'],
  },
  {
    name: '?version=abc',
    method: 'GET',
    path: (f) => `/api/workflows/${f.workflow}?version=abc`,
    status: 422,
    type: T.validation,
    detail: /version must be an integer/,
    paths: ['version'],
  },

  // --- transitions the status forbids → 409
  {
    name: 'pause a completed execution',
    method: 'POST',
    path: (f) => `/api/executions/${f.done}/pause`,
    status: 409,
    type: T.transition,
    detail: /cannot pause execution .*: it is completed/,
  },
  {
    name: 'resume a completed execution',
    method: 'POST',
    path: (f) => `/api/executions/${f.done}/resume`,
    status: 409,
    type: T.transition,
    detail: /cannot resume execution .*: it is completed/,
  },
  {
    name: 'cancel a completed execution',
    method: 'POST',
    path: (f) => `/api/v1/executions/${f.done}/cancel`,
    status: 409,
    type: T.transition,
    detail: /cannot cancel execution .*: it is completed/,
  },
  {
    name: 'rerun a completed execution',
    method: 'POST',
    path: (f) => `/api/executions/${f.done}/rerun`,
    status: 409,
    type: T.transition,
    detail: /cannot rerun execution .*: it is completed/,
  },
  {
    name: 'resume a running execution',
    method: 'POST',
    path: (f) => `/api/executions/${f.running}/resume`,
    status: 409,
    type: T.transition,
    detail: /cannot resume execution .*: it is running/,
  },
  {
    name: 'delete a workflow with a running execution',
    method: 'DELETE',
    path: (f) => `/api/workflows/${f.waiting}`,
    status: 409,
    type: T.conflict,
    detail: /not finished; cancel them first/,
  },

  // --- __proto__ / constructor: accepted as plain keys, never polluting anything
  {
    name: '__proto__ at the top of a workflow',
    method: 'POST',
    path: '/api/workflows',
    body: '{"__proto__":{"polluted":"workflow"},"name":"p","tasks":[{"id":"a","component":"harmonia","action":"noop"}]}',
    status: 201,
  },
  {
    name: 'constructor.prototype in metadata and input',
    method: 'POST',
    path: '/api/workflows',
    body:
      '{"name":"p","metadata":{"constructor":{"prototype":{"polluted":"meta"}}},"tasks":[{"id":"a","component":"harmonia","action":"echo",' +
      '"input":{"__proto__":{"polluted":"input"},"constructor":{"prototype":{"polluted":"input"}}}}]}',
    status: 201,
  },
  {
    name: '__proto__ and constructor as task keys (map form)',
    method: 'POST',
    path: '/api/workflows',
    body: '{"name":"p","tasks":{"__proto__":{"component":"harmonia","action":"noop"},"constructor":{"component":"harmonia","action":"echo","depends_on":["__proto__"]}}}',
    status: 201,
  },
  {
    name: 'depends_on "__proto__" (no such task)',
    method: 'POST',
    path: '/api/workflows',
    body: withTask({ depends_on: ['__proto__'] }),
    status: 422,
    type: T.validation,
    detail: /unknown task "__proto__"/,
    paths: ['tasks[0].depends_on[0]'],
  },
  {
    name: 'depends_on "constructor" (no such task)',
    method: 'POST',
    path: '/api/workflows',
    body: withTask({ depends_on: ['constructor', 'toString'] }),
    status: 422,
    type: T.validation,
    paths: ['tasks[0].depends_on[0]', 'tasks[0].depends_on[1]'],
  },
  {
    name: 'an expression reading tasks.constructor (no such task)',
    method: 'POST',
    path: '/api/workflows',
    body: workflow({ output: { r: '${tasks.constructor.output}', s: '${tasks.__proto__.output}' } }),
    status: 422,
    type: T.validation,
    paths: ['output.r', 'output.s'],
  },
  {
    name: '__proto__ in an execution input and metadata',
    method: 'POST',
    path: '/api/executions',
    body: (f) =>
      `{"workflow_id":"${f.workflow}","input":{"n":1,"__proto__":{"polluted":"exec"}},"metadata":{"__proto__":{"polluted":"exec"}}}`,
    status: 201,
  },
  {
    name: 'n given through __proto__ does not count',
    method: 'POST',
    path: '/api/executions',
    body: (f) => `{"workflow_id":"${f.workflow}","input":{"__proto__":{"n":1}}}`,
    status: 422,
    type: T.validation,
    detail: /input\.n is required/,
    paths: ['input.n'],
  },
  {
    name: '__proto__ in state',
    method: 'PUT',
    path: (f) => `/api/state/${f.done}`,
    body: '{"state":{"__proto__":{"polluted":"state"},"ok":1}}',
    status: 200,
  },
  {
    name: '__proto__ as a template parameter',
    method: 'POST',
    path: '/api/templates',
    body: (f) => `{"name":"t","workflow_definition_id":"${f.workflow}","parameters":{"__proto__":{"type":"string","default":"x"}}}`,
    status: 201,
  },
  {
    name: '__proto__ in parameter_values',
    method: 'POST',
    path: (f) => `/api/templates/${f.template}/instantiate`,
    body: '{"parameter_values":{"who":"w","__proto__":{"polluted":"params"}}}',
    status: 201,
  },
  {
    name: '__proto__ as the whole body',
    method: 'POST',
    path: '/api/checkpoints',
    body: '{"__proto__":{"execution_id":"x"}}',
    status: 422,
    type: T.validation,
    paths: ['execution_id'],
  },
]

/** Handlers of the `test` component: `wait` runs until the test opens the gate (or the execution is canceled). */
function testComponent(gate: Promise<void>): Component {
  return {
    wait: (_input: unknown, ctx) =>
      new Promise((resolve, reject) => {
        void gate.then(() => resolve({ waited: true }))
        ctx.signal.addEventListener('abort', () => reject(new Error('canceled', { cause: ctx.signal.reason })), { once: true })
      }),
  }
}

type StoreSetup = { title: string; skip: boolean; options(): Promise<HarmoniaOptions> }

const stores: StoreSetup[] = [
  { title: 'memory', skip: false, options: async () => ({ database: 'memory:store' }) },
  ...drivers.map((driver) => ({
    title: driver.title,
    skip: driver.skip,
    options: async () => ({ store: createSqlStore(await driver.open()) }),
  })),
]

for (const store of stores) {
  describe.skipIf(store.skip)(`${store.title}: bad input through a listening server`, () => {
    let server: RunningServer
    let fixtures: Fixtures
    const gate = deferred()
    const logged: string[] = []

    const send = async (method: string, path: string, body?: Body, contentType?: string | null) => {
      const headers: Record<string, string> = {}
      const type = contentType === undefined ? (body === undefined ? undefined : 'application/json') : contentType
      if (type) headers['content-type'] = type
      return fetch(server.url + path, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
      })
    }
    const json = async (method: string, path: string, body?: unknown) => {
      const response = await send(method, path, body === undefined ? undefined : JSON.stringify(body))
      const text = await response.text()
      if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`)
      return JSON.parse(text) as Record<string, unknown>
    }

    beforeAll(async () => {
      server = await startServer({
        port: 0,
        hostname: '127.0.0.1',
        tokens: [],
        logger: createLogger({ level: 'error', pretty: false, write: (line) => logged.push(line) }),
        graceMs: 0,
        harmoniaOptions: { ...(await store.options()), components: { test: testComponent(gate.promise) } },
      })
      const wf = await json('POST', '/api/workflows', {
        name: 'fixture',
        input: { n: { type: 'integer', required: true } },
        tasks: [{ id: 'a', component: 'harmonia', action: 'echo', input: { n: '${input.n}' } }],
      })
      const done = await json('POST', '/api/executions', { workflow_id: wf.workflow_id, input: { n: 1 } })
      expect((await server.harmonia.waitForExecution(done.execution_id as string)).status).toBe('completed')
      const source = await json('POST', '/api/workflows', {
        name: 'greeting',
        tasks: [{ id: 'g', component: 'harmonia', action: 'echo', input: { who: '${params.who}', count: '${params.count}' } }],
      })
      const template = await json('POST', '/api/templates', {
        name: 'greet',
        workflow_definition_id: source.workflow_id,
        parameters: { who: { type: 'string', required: true }, count: { type: 'integer', default: 1 } },
      })
      const waiting = await json('POST', '/api/workflows', { name: 'waiting', tasks: [{ id: 'w', component: 'test', action: 'wait' }] })
      const running = await json('POST', '/api/executions', { workflow_id: waiting.workflow_id })
      fixtures = {
        workflow: wf.workflow_id as string,
        done: done.execution_id as string,
        template: template.template_id as string,
        waiting: waiting.workflow_id as string,
        running: running.execution_id as string,
      }
      // The waiting execution must be running (not pending) for the resume row.
      for (let i = 0; i < 500 && (await server.harmonia.getExecution(fixtures.running)).status !== 'running'; i++) {
        await new Promise((r) => setTimeout(r, 5))
      }
    })

    afterAll(async () => {
      gate.resolve()
      if (fixtures) await server.harmonia.waitForExecution(fixtures.running)
      await server?.close()
    })

    it('has at least 40 rows', () => {
      expect(rows.length).toBeGreaterThanOrEqual(40)
      expect(new Set(rows.map((r) => r.name)).size).toBe(rows.length)
    })

    it.each(rows)('$method $name → $status', async (row) => {
      const path = typeof row.path === 'function' ? row.path(fixtures) : row.path
      const body = typeof row.body === 'function' ? row.body(fixtures) : row.body
      const response = await send(row.method, path, body, row.contentType)
      const text = await response.text()
      expect(response.status, text.slice(0, 500)).toBe(row.status)

      if (row.status < 300) {
        expect(response.headers.get('content-type')).toMatch(/^application\/json/)
      } else {
        expect(response.headers.get('content-type')).toBe('application/problem+json')
        const problem = JSON.parse(text) as {
          type: string
          title: string
          status: number
          detail: string
          errors?: { path: string; message: string }[]
        }
        expect(problem.type).toBe(row.type)
        expect(problem.title).toBe(TITLES[row.status])
        expect(problem.status).toBe(row.status)
        expect(typeof problem.detail).toBe('string')
        expect(problem.detail.length).toBeGreaterThan(0)
        if (row.detail) expect(problem.detail).toMatch(row.detail)
        if (row.status === 422) {
          expect(problem.errors, 'a 422 names the fields').toBeInstanceOf(Array)
          for (const error of problem.errors!) {
            expect(typeof error.path).toBe('string')
            expect(error.message.length).toBeGreaterThan(0)
          }
        }
        if (row.paths) {
          const paths = problem.errors!.map((e) => e.path)
          if (row.somePaths) expect(paths).toEqual(expect.arrayContaining(row.paths))
          else expect([...paths].sort()).toEqual([...row.paths].sort())
        }
      }

      const health = await fetch(`${server.url}/health`)
      expect(health.status).toBe(200)
      expect(await health.json()).toMatchObject({ status: 'healthy', component: 'harmonia' })
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    })

    it('left no pollution, no 500 and a working server behind', async () => {
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      expect(Object.prototype).not.toHaveProperty('polluted')
      expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted')
      expect(logged.filter((line) => line.includes('request failed'))).toEqual([])
      // The hostile-but-valid rows are stored as plain data.
      const state = await json('GET', `/api/state/${fixtures.done}`)
      expect(state.state).toMatchObject({ ok: 1 })
      expect(Object.getPrototypeOf(state.state)).toBe(Object.prototype)
      const list = await json('GET', '/api/workflows?limit=1000')
      expect(list.total as number).toBeGreaterThanOrEqual(4)
      // A normal request still works end to end.
      const execution = await json('POST', '/api/executions', { workflow_id: fixtures.workflow, input: { n: 5 } })
      const finished = await server.harmonia.waitForExecution(execution.execution_id as string)
      expect(finished.status).toBe('completed')
      expect(finished.task_executions.a!.output).toEqual({ n: 5 })
    })

    it('runs an execution whose input holds __proto__ and constructor keys without polluting', async () => {
      const wf = await json(
        'POST',
        '/api/workflows',
        JSON.parse(
          '{"name":"proto-input","tasks":[{"id":"a","component":"harmonia","action":"echo","input":{"__proto__":{"polluted":"task"},"given":"${input}"}}]}',
        ),
      )
      const execution = await json(
        'POST',
        '/api/executions',
        JSON.parse(`{"workflow_id":"${wf.workflow_id}","input":{"__proto__":{"polluted":"run"}}}`),
      )
      const finished = await server.harmonia.waitForExecution(execution.execution_id as string)
      expect(finished.status).toBe('completed')
      const output = finished.task_executions.a!.output as Record<string, unknown>
      expect(Object.keys(output).sort()).toEqual(['__proto__', 'given'])
      expect(JSON.stringify(output.given)).toBe('{"__proto__":{"polluted":"run"}}')
      expect(JSON.stringify(Object.getOwnPropertyDescriptor(output, '__proto__')?.value)).toBe('{"polluted":"task"}')
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    })

    // Task ids that are Object.prototype names (`__proto__`, `constructor`) are plain data: every task runs.
    it('runs every task of a workflow whose task ids are __proto__ and constructor', async () => {
      const wf = await json(
        'POST',
        '/api/workflows',
        JSON.parse(
          '{"name":"proto-ids","tasks":{"__proto__":{"component":"harmonia","action":"echo","input":{"x":1}},"constructor":{"component":"harmonia","action":"echo","depends_on":["__proto__"],"input":{"y":"${tasks.__proto__.output.x}"}}}}',
        ),
      )
      const execution = await json('POST', '/api/executions', { workflow_id: wf.workflow_id })
      const finished = await server.harmonia.waitForExecution(execution.execution_id as string)
      expect(finished.status).toBe('completed')
      const tasks = new Map(Object.entries(finished.task_executions))
      expect([...tasks.keys()].sort()).toEqual(['__proto__', 'constructor'])
      expect(tasks.get('constructor')?.status).toBe('completed')
      expect(tasks.get('constructor')?.output).toEqual({ y: 1 })
    })
  })
}
