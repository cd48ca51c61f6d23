/**
 * Bad input (issue 4, "Bad input"): a table of malformed and hostile requests sent to a real listening server. Each
 * row names the exact status, the problem+json fields and, for a 422, the field paths in `errors[]`; after every
 * request the server must still answer GET /health. Nothing may produce a 500 (the logger would record it).
 * The table runs on the in-memory store, on PGlite and (with DATABASE_URL) on Postgres: some inputs (a lone surrogate,
 * an int4 overflow) only fail in SQL. One row a line. The table holds what the HTTP edge decides (400, 404, 405, 409,
 * 413, 415, nesting depth, ids in paths, query parameters) and what needs the engine; workflow definitions that fail
 * validation are tested without a server in test/model/workflow-validation.test.ts, and a few of them here keep the
 * mapping of a ValidationError to a 422 problem covered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../src/logger.js'
import type { Component } from '../../src/components/handler.js'
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

type Row = {
  name: string
  /** `METHOD /path`. `{{workflow}}`, `{{done}}`, `{{template}}`, `{{waiting}}`, `{{running}}` name a fixture (also in bodies). */
  to: string
  /** A string is sent as it is, a function's stream chunked, anything else as JSON. */
  body?: string | (() => ReadableStream<Uint8Array>) | Record<string, unknown> | unknown[]
  /** Default `application/json` when there is a body; null sends none. */
  contentType?: string | null
  status: number
  /** The problem `type`; by default the one of the status (TYPES). Absent for 2xx rows: hostile input accepted harmlessly. */
  type?: string
  detail?: RegExp
  /** For a 422: paths that `errors[]` must name (exactly these, in any order, unless `somePaths`). */
  paths?: string[]
  /** `paths` must be among the errors, others may be listed too. */
  somePaths?: boolean
}

/** The problem type a status has unless the row says otherwise. */
const TYPES: Record<number, string> = {
  400: T.badRequest,
  404: T.notFound,
  405: T.method,
  409: T.transition,
  413: T.tooLarge,
  415: T.mediaType,
  422: T.validation,
}

const task = (fields: Record<string, unknown> = {}) => ({ id: 'a', component: 'harmonia', action: 'noop', ...fields })
/** A workflow body: valid unless `fields` break it. */
const workflow = (fields: Record<string, unknown> = {}) => ({ name: 'bad input', tasks: [task()], ...fields })
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
/** Bodies too long for a row's line (they must stay text: `__proto__` in an object literal would set a prototype). */
const RAW = {
  protoInMetaAndInput:
    '{"name":"p","metadata":{"constructor":{"prototype":{"polluted":"meta"}}},"tasks":[{"id":"a","component":"harmonia","action":"echo",' +
    '"input":{"__proto__":{"polluted":"input"},"constructor":{"prototype":{"polluted":"input"}}}}]}',
  protoTaskKeys:
    '{"name":"p","tasks":{"__proto__":{"component":"harmonia","action":"noop"},"constructor":{"component":"harmonia","action":"echo","depends_on":["__proto__"]}}}',
}

/**
 * Workflow validation has its own table without a server (test/model/workflow-validation.test.ts); the workflow rows
 * here are the ones that need the engine (registered components) and a few that keep the 422 mapping covered.
 */
// prettier-ignore
const rows: Row[] = [
  // --- malformed JSON → 400
  { name: 'truncated JSON', to: 'POST /api/workflows', body: '{"name":', status: 400, detail: /malformed JSON/ },
  { name: 'truncated string', to: 'POST /api/executions', body: '{"workflow_id": "01', status: 400, detail: /malformed JSON/ },
  { name: 'unquoted keys', to: 'POST /api/workflows', body: "{name: 'x'}", status: 400, detail: /malformed JSON/ },
  { name: 'trailing comma', to: 'POST /api/templates', body: '{"name":"t",}', status: 400, detail: /malformed JSON/ },
  { name: 'not JSON at all', to: 'POST /api/checkpoints', body: 'hello', status: 400, detail: /malformed JSON/ },
  { name: 'NaN literal', to: 'PUT /api/state/{{done}}', body: '{"state":{"a":NaN}}', status: 400, detail: /malformed JSON/ },
  { name: 'two JSON values', to: 'PUT /api/workflows/{{workflow}}', body: '{"name":"x"}{}', status: 400, detail: /malformed JSON/ },
  { name: 'NUL bytes around the JSON', to: 'POST /api/workflows', body: '\u0000{\u0000}', status: 400, detail: /malformed JSON/ },
  { name: '1e309 (beyond a double) as a timeout', to: 'POST /api/workflows', body: '{"name":"x","timeout":1e309,"tasks":[{"id":"a","component":"harmonia","action":"noop"}]}', status: 400, detail: /timeout is a number out of range/, paths: ['timeout'] },
  { name: '-1e400 in an execution input', to: 'POST /api/executions', body: '{"workflow_id":"{{workflow}}","input":{"n":-1e400}}', status: 400, detail: /input\.n is a number out of range/, paths: ['input.n'] },
  { name: 'a lone high surrogate in a name', to: 'POST /api/workflows', body: '{"name":"x \\ud800 y","tasks":[{"id":"a","component":"harmonia","action":"noop"}]}', status: 400, detail: /name holds an unpaired UTF-16 surrogate/, paths: ['name'] },
  { name: 'a lone low surrogate in an execution input', to: 'POST /api/executions', body: '{"workflow_id":"{{workflow}}","input":{"n":1,"s":["ok","\\udc00"]}}', status: 400, detail: /unpaired UTF-16 surrogate/, paths: ['input.s[1]'] },
  { name: 'a lone surrogate in a state key', to: 'PUT /api/state/{{done}}', body: '{"state":{"\\ud83d":1}}', status: 400, detail: /key with an unpaired UTF-16 surrogate/, paths: ['state["\\ud83d"]'] },

  // --- content type → 415
  { name: 'text/plain', to: 'POST /api/workflows', body: workflow(), contentType: 'text/plain', status: 415, detail: /expected application\/json, got text\/plain/ },
  { name: 'a form body', to: 'POST /api/executions', body: 'workflow_id={{workflow}}', contentType: 'application/x-www-form-urlencoded', status: 415, detail: /got application\/x-www-form-urlencoded/ },
  { name: 'multipart', to: 'PUT /api/state/{{done}}', body: '{"state":{}}', contentType: 'multipart/form-data; boundary=x', status: 415, detail: /got multipart\/form-data/ },
  { name: 'application/xml', to: 'POST /api/templates', body: '<template/>', contentType: 'application/xml', status: 415, detail: /got application\/xml/ },

  // --- empty, null, arrays and scalars where an object is required → 422 naming the body
  { name: 'empty body (workflow)', to: 'POST /api/workflows', status: 422, detail: /must be a JSON object/, paths: [''] },
  { name: 'empty body (execution)', to: 'POST /api/executions', body: '', status: 422, detail: /must be a JSON object/, paths: [''] },
  { name: 'whitespace body (checkpoint)', to: 'POST /api/checkpoints', body: ' \n\t ', status: 422, detail: /must be a JSON object/, paths: [''] },
  { name: 'null body', to: 'POST /api/workflows', body: 'null', status: 422, detail: /must be a JSON object/, paths: [''] },
  { name: 'array body (workflow)', to: 'POST /api/workflows', body: '[]', status: 422, detail: /must be a JSON object/, paths: [''] },
  { name: 'array of the right object', to: 'POST /api/executions', body: [{ workflow_id: '{{workflow}}', input: { n: 1 } }], status: 422, detail: /must be a JSON object/, paths: [''] },
  { name: 'string body', to: 'POST /api/templates', body: '"template"', status: 422, detail: /must be a JSON object/, paths: [''] },
  { name: 'number body', to: 'PUT /api/state/{{done}}', body: '42', status: 422, detail: /must be a JSON object/, paths: [''] },
  { name: 'boolean body', to: 'POST /api/checkpoints', body: 'true', status: 422, detail: /must be a JSON object/, paths: [''] },
  { name: 'null instantiate body', to: 'POST /api/templates/{{template}}/instantiate', body: 'null', status: 422, detail: /must be a JSON object/, paths: [''] },
  { name: 'array PUT workflow', to: 'PUT /api/workflows/{{workflow}}', body: '[{"name":"x"}]', status: 422, detail: /must be a JSON object/, paths: [''] },

  // --- workflows: the 422 mapping (every validation case is in test/model/workflow-validation.test.ts), registered components
  { name: 'workflow without name', to: 'POST /api/workflows', body: { tasks: [task()] }, status: 422, detail: /name is required/, paths: ['name'] },
  { name: 'unregistered component', to: 'POST /api/workflows', body: withTask({ component: 'nope' }), status: 422, detail: /component "nope" is not known: register it \(POST \/api\/components\)/, paths: ['tasks[0].component'] },
  { name: 'unknown action', to: 'POST /api/workflows', body: withTask({ action: 'explode' }), status: 422, detail: /component "harmonia" has no action "explode"/, paths: ['tasks[0].action'] },
  { name: 'several errors at once', to: 'POST /api/workflows', body: { name: 1, tasks: [{ id: 'a', component: 2, action: 'noop', timeout: 'x' }] }, status: 422, detail: /name must be a string/, paths: ['name', 'tasks[0].component', 'tasks[0].timeout'] },
  { name: 'PUT with a wrong type', to: 'PUT /api/workflows/{{workflow}}', body: withTask({ depends_on: [1] }), status: 422, detail: /depends_on/, paths: ['tasks[0].depends_on[0]'] },
  { name: 'dependency cycle', to: 'POST /api/workflows', body: workflow({ tasks: [task({ id: 'a', depends_on: ['b'] }), task({ id: 'b', depends_on: ['a'] })] }), status: 422, detail: /closes a dependency cycle: a → b → a/, paths: ['tasks[0].depends_on[0]'] },
  { name: 'bad CEL in when', to: 'POST /api/workflows', body: withTask({ when: '1 +' }), status: 422, detail: /invalid expression/, paths: ['tasks[0].when'] },

  // --- versions beyond int4 (the SQL column): 404, never an overflow
  { name: 'execution version: 1e308', to: 'POST /api/executions', body: { workflow_id: '{{workflow}}', version: 1e308 }, status: 404, detail: /workflow version 1e\+308 of/ },
  { name: 'execution version: 2^31', to: 'POST /api/executions', body: { workflow_id: '{{workflow}}', version: 2 ** 31 }, status: 404, detail: /workflow version 2147483648 of/ },
  { name: '?version=2^31', to: 'GET /api/workflows/{{workflow}}?version=2147483648', status: 404, detail: /workflow version 2147483648 of/ },
  { name: '?version=15 digits', to: 'GET /api/workflows/{{workflow}}?version=999999999999999', status: 404, detail: /not found/ },
  { name: '?version=0', to: 'GET /api/workflows/{{workflow}}?version=0', status: 404, detail: /workflow version 0 of/ },
  { name: '?version=16 digits', to: 'GET /api/workflows/{{workflow}}?version=9999999999999999', status: 422, detail: /version must be an integer/, paths: ['version'] },

  // --- executions
  { name: 'execution without workflow_id', to: 'POST /api/executions', body: '{}', status: 422, detail: /workflow_id is required/, paths: ['workflow_id'] },
  { name: 'workflow_id: number', to: 'POST /api/executions', body: '{"workflow_id":5}', status: 422, detail: /workflow_id must be a string/, paths: ['workflow_id'] },
  { name: 'workflow_id: not a UUID', to: 'POST /api/executions', body: '{"workflow_id":"abc"}', status: 422, detail: /workflow_id must be a UUID/, paths: ['workflow_id'] },
  { name: 'workflow_id: SQL in it', to: 'POST /api/executions', body: { workflow_id: "' OR 1=1 --" }, status: 422, detail: /workflow_id must be a UUID/, paths: ['workflow_id'] },
  { name: 'unknown workflow', to: 'POST /api/executions', body: { workflow_id: MISSING }, status: 404, detail: /workflow 01890000-0000-7000-8000-000000000000 not found/ },
  { name: 'required input missing', to: 'POST /api/executions', body: { workflow_id: '{{workflow}}' }, status: 422, detail: /input\.n is required/, paths: ['input.n'] },
  { name: 'input of the wrong type', to: 'POST /api/executions', body: { workflow_id: '{{workflow}}', input: { n: 'seven' } }, status: 422, detail: /input\.n must be an integer, got the string "seven"/, paths: ['input.n'] },
  { name: 'execution input: array', to: 'POST /api/executions', body: { workflow_id: '{{workflow}}', input: [1] }, status: 422, detail: /input must be an object/, paths: ['input'] },
  { name: 'input: null n', to: 'POST /api/executions', body: { workflow_id: '{{workflow}}', input: { n: null } }, status: 422, detail: /input\.n must be an integer, got null/, paths: ['input.n'] },
  { name: 'version: string', to: 'POST /api/executions', body: { workflow_id: '{{workflow}}', version: '1' }, status: 422, detail: /version must be a number/, paths: ['version'] },
  { name: 'version: 0', to: 'POST /api/executions', body: { workflow_id: '{{workflow}}', version: 0 }, status: 422, paths: ['version'] },
  { name: 'version: unknown', to: 'POST /api/executions', body: { workflow_id: '{{workflow}}', version: 99 }, status: 404, detail: /workflow version 99 of/ },
  { name: 'execution metadata: string', to: 'POST /api/executions', body: { workflow_id: '{{workflow}}', metadata: 'x' }, status: 422, detail: /metadata must be an object/, paths: ['metadata'] },
  { name: 'NUL character in an input', to: 'POST /api/executions', body: { workflow_id: '{{workflow}}', input: { n: 1, s: 'a\u0000b' } }, status: 422, detail: /NUL/, paths: ['input.s'] },

  // --- templates
  { name: 'template without anything', to: 'POST /api/templates', body: '{}', status: 422, paths: ['name', 'workflow_definition_id'] },
  { name: 'template name: number', to: 'POST /api/templates', body: { name: 5, workflow_definition_id: '{{workflow}}' }, status: 422, paths: ['name'] },
  { name: 'template name: blank', to: 'POST /api/templates', body: { name: '   ', workflow_definition_id: '{{workflow}}' }, status: 422, detail: /name must not be empty/, paths: ['name'] },
  { name: 'workflow_definition_id: not a UUID', to: 'POST /api/templates', body: { name: 't', workflow_definition_id: 'x' }, status: 422, detail: /must be a UUID/, paths: ['workflow_definition_id'] },
  { name: 'workflow_definition_id: unknown', to: 'POST /api/templates', body: { name: 't', workflow_definition_id: MISSING }, status: 422, detail: /does not exist/, paths: ['workflow_definition_id'] },
  { name: 'parameters: string', to: 'POST /api/templates', body: { name: 't', workflow_definition_id: '{{workflow}}', parameters: 'who' }, status: 422, paths: ['parameters'] },
  { name: 'parameter type: bogus', to: 'POST /api/templates', body: { name: 't', workflow_definition_id: '{{workflow}}', parameters: { who: { type: 'bogus' } } }, status: 422, detail: /must be one of string/, paths: ['parameters.who.type'] },
  { name: 'description: number', to: 'POST /api/templates', body: { name: 't', workflow_definition_id: '{{workflow}}', description: 1 }, status: 422, paths: ['description'] },
  { name: 'instantiate: required parameter missing', to: 'POST /api/templates/{{template}}/instantiate', body: '{}', status: 422, detail: /parameter_values\.who is required/, paths: ['parameter_values.who'] },
  { name: 'instantiate: wrong type', to: 'POST /api/templates/{{template}}/instantiate', body: { parameter_values: { who: 'x', count: 1.5 } }, status: 422, detail: /parameter_values\.count must be an integer/, paths: ['parameter_values.count'] },
  { name: 'instantiate: parameter_values number', to: 'POST /api/templates/{{template}}/instantiate', body: '{"parameter_values":7}', status: 422, paths: ['parameter_values'] },
  { name: 'instantiate: name empty', to: 'POST /api/templates/{{template}}/instantiate', body: '{"parameter_values":{"who":"w"},"name":""}', status: 422, detail: /name must not be empty/, paths: ['name'] },
  { name: 'instantiate: unknown template', to: `POST /api/templates/${MISSING}/instantiate`, body: '{}', status: 404, detail: /template .* not found/ },

  // --- state and checkpoints
  { name: 'state missing', to: 'PUT /api/state/{{done}}', body: '{}', status: 422, paths: ['state'] },
  { name: 'state: array', to: 'PUT /api/state/{{done}}', body: '{"state":[1]}', status: 422, detail: /state must be a JSON object/, paths: ['state'] },
  { name: 'state: string', to: 'PUT /api/state/{{done}}', body: '{"state":"x"}', status: 422, paths: ['state'] },
  { name: 'state: null', to: 'PUT /api/state/{{done}}', body: '{"state":null}', status: 422, paths: ['state'] },
  { name: 'state of an unknown execution', to: `PUT /api/state/${MISSING}`, body: '{"state":{}}', status: 404, detail: /execution .* not found/ },
  { name: 'state of a malformed id', to: 'PUT /api/state/xyz', body: '{"state":{}}', status: 404, detail: /execution xyz not found/ },
  { name: 'checkpoint without execution_id', to: 'POST /api/checkpoints', body: '{}', status: 422, paths: ['execution_id'] },
  { name: 'checkpoint execution_id: number', to: 'POST /api/checkpoints', body: '{"execution_id":5}', status: 422, detail: /execution_id must be a string/, paths: ['execution_id'] },
  { name: 'checkpoint execution_id: not a UUID', to: 'POST /api/checkpoints', body: '{"execution_id":"e-1"}', status: 422, detail: /execution_id must be a UUID/, paths: ['execution_id'] },
  { name: 'checkpoint of an unknown execution', to: 'POST /api/checkpoints', body: { execution_id: MISSING }, status: 404, detail: /execution .* not found/ },

  // --- unknown ids and malformed ids → 404
  { name: 'GET unknown workflow', to: `GET /api/workflows/${MISSING}`, status: 404, detail: /workflow .* not found/ },
  { name: 'PUT unknown workflow', to: `PUT /api/workflows/${MISSING}`, body: workflow(), status: 404, detail: /workflow .* not found/ },
  { name: 'DELETE unknown workflow', to: `DELETE /api/workflows/${MISSING}`, status: 404, detail: /workflow .* not found/ },
  { name: 'GET unknown execution', to: `GET /api/executions/${MISSING}`, status: 404, detail: /execution .* not found/ },
  { name: 'cancel unknown execution', to: `POST /api/executions/${MISSING}/cancel`, status: 404, detail: /execution .* not found/ },
  { name: 'pause unknown execution', to: `POST /api/executions/${MISSING}/pause`, status: 404, detail: /execution .* not found/ },
  { name: 'resume unknown execution', to: `POST /api/executions/${MISSING}/resume`, status: 404, detail: /execution .* not found/ },
  { name: 'history of unknown execution', to: `GET /api/executions/${MISSING}/history`, status: 404, detail: /execution .* not found/ },
  { name: 'GET unknown template', to: `GET /api/templates/${MISSING}`, status: 404, detail: /template .* not found/ },
  { name: 'GET state of unknown execution', to: `GET /api/state/${MISSING}`, status: 404, detail: /execution .* not found/ },
  { name: 'GET unknown checkpoint', to: `GET /api/checkpoints/${MISSING}`, status: 404, detail: /checkpoint .* not found/ },
  { name: 'restore unknown checkpoint', to: `POST /api/checkpoints/${MISSING}/restore`, status: 404, detail: /checkpoint .* not found/ },
  { name: 'SSE of unknown execution', to: `GET /events/executions/${MISSING}`, status: 404, detail: /execution .* not found/ },
  { name: 'v1: unknown execution', to: `GET /api/v1/executions/${MISSING}`, status: 404, detail: /execution .* not found/ },
  { name: 'malformed workflow id', to: 'GET /api/workflows/not-a-uuid', status: 404, detail: /workflow not-a-uuid not found/ },
  { name: 'malformed execution id (number)', to: 'GET /api/executions/123', status: 404, detail: /execution 123 not found/ },
  { name: 'UUID with a bad variant', to: 'GET /api/executions/01890000-0000-7000-0000-00000000000g', status: 404 },
  { name: 'id with SQL in it', to: `GET /api/templates/${encodeURIComponent("' OR '1'='1")}`, status: 404, detail: /template .* not found/ },
  { name: 'pause a malformed id', to: 'POST /api/executions/%00/pause', status: 404 },
  { name: 'malformed checkpoint id', to: 'POST /api/checkpoints/zz/restore', status: 404, detail: /checkpoint zz not found/ },
  { name: 'SSE of a malformed id', to: 'GET /events/executions/zzz', status: 404, detail: /execution zzz not found/ },
  { name: 'a method the route does not serve', to: 'PATCH /api/workflows/{{workflow}}', body: '{}', status: 405, detail: /PATCH is not allowed on \/api\/workflows\/.*; it accepts GET, HEAD, PUT, DELETE/ },
  { name: 'no such route', to: 'PATCH /api/workflows-and-more', body: '{}', status: 404, type: T.route, detail: /no route for PATCH/ },

  // --- oversized bodies → 413
  { name: 'body over 1 MiB', to: 'POST /api/workflows', body: workflow({ description: 'x'.repeat(MiB) }), status: 413, detail: /larger than 1048576 bytes/ },
  { name: 'state over 1 MiB', to: 'PUT /api/state/{{done}}', body: { state: { blob: 'y'.repeat(MiB + 10) } }, status: 413, detail: /larger than/ },
  { name: 'chunked body over 1 MiB (no content-length)', to: 'POST /api/executions', body: () => chunked(2 * MiB), status: 413, detail: /larger than 1048576 bytes/ },

  // --- deep nesting → 422, never a stack overflow
  { name: '10,000 nested arrays', to: 'POST /api/workflows', body: JSON.stringify(workflow({ metadata: { deep: '@' } })).replace('"@"', nested(10_000)), status: 422, type: T.tooDeep, detail: /nested deeper than 64 levels/, paths: [''] },
  { name: '500,000 nested arrays', to: 'POST /api/executions', body: nested(500_000), status: 422, type: T.tooDeep, detail: /nested deeper than 64/, paths: [''] },
  { name: '10,000 nested objects', to: 'PUT /api/state/{{done}}', body: '{"state":' + '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_001), status: 422, type: T.tooDeep, detail: /nested deeper than 64/, paths: [''] },

  // --- bad query parameters
  { name: 'limit=abc', to: 'GET /api/executions?limit=abc', status: 422, detail: /limit must be an integer/, paths: ['limit'] },
  { name: 'limit=0', to: 'GET /api/executions?limit=0', status: 422, detail: /from 1 to 1000/, paths: ['limit'] },
  { name: 'limit=5000', to: 'GET /api/executions?limit=5000', status: 422, detail: /from 1 to 1000/, paths: ['limit'] },
  { name: 'limit=-1', to: 'GET /api/workflows?limit=-1', status: 422, paths: ['limit'] },
  { name: 'limit=1e3', to: 'GET /api/templates?limit=1e3', status: 422, detail: /limit must be an integer/, paths: ['limit'] },
  { name: 'limit=20 digits', to: 'GET /api/checkpoints?limit=99999999999999999999', status: 422, paths: ['limit'] },
  { name: 'offset=-5', to: 'GET /api/workflows?offset=-5', status: 422, detail: /non-negative/, paths: ['offset'] },
  { name: 'offset=1.5', to: 'GET /api/executions?offset=1.5', status: 422, paths: ['offset'] },
  { name: 'status=bogus', to: 'GET /api/executions?status=bogus', status: 422, detail: /status must be one of pending, running/, paths: ['status'] },
  { name: 'status=RUNNING (case)', to: 'GET /api/v1/executions?status=RUNNING', status: 422, paths: ['status'] },
  { name: 'limit and status both bad', to: 'GET /api/executions?status=x&limit=y', status: 422, somePaths: true, paths: ['status'] },
  { name: '?version=abc', to: 'GET /api/workflows/{{workflow}}?version=abc', status: 422, detail: /version must be an integer/, paths: ['version'] },

  // --- transitions the status forbids → 409
  { name: 'pause a completed execution', to: 'POST /api/executions/{{done}}/pause', status: 409, detail: /cannot pause execution .*: it is completed/ },
  { name: 'resume a completed execution', to: 'POST /api/executions/{{done}}/resume', status: 409, detail: /cannot resume execution .*: it is completed/ },
  { name: 'cancel a completed execution', to: 'POST /api/v1/executions/{{done}}/cancel', status: 409, detail: /cannot cancel execution .*: it is completed/ },
  { name: 'rerun a completed execution', to: 'POST /api/executions/{{done}}/rerun', status: 409, detail: /cannot rerun execution .*: it is completed/ },
  { name: 'resume a running execution', to: 'POST /api/executions/{{running}}/resume', status: 409, detail: /cannot resume execution .*: it is running/ },
  { name: 'delete a workflow with a running execution', to: 'DELETE /api/workflows/{{waiting}}', status: 409, type: T.conflict, detail: /not finished; cancel them first/ },

  // --- __proto__ / constructor: accepted as plain keys, never polluting anything
  { name: '__proto__ at the top of a workflow', to: 'POST /api/workflows', body: '{"__proto__":{"polluted":"workflow"},"name":"p","tasks":[{"id":"a","component":"harmonia","action":"noop"}]}', status: 201 },
  { name: 'constructor.prototype in metadata and input', to: 'POST /api/workflows', body: RAW.protoInMetaAndInput, status: 201 },
  { name: '__proto__ and constructor as task keys (map form)', to: 'POST /api/workflows', body: RAW.protoTaskKeys, status: 201 },
  { name: '__proto__ in an execution input and metadata', to: 'POST /api/executions', body: '{"workflow_id":"{{workflow}}","input":{"n":1,"__proto__":{"polluted":"exec"}},"metadata":{"__proto__":{"polluted":"exec"}}}', status: 201 },
  { name: 'n given through __proto__ does not count', to: 'POST /api/executions', body: '{"workflow_id":"{{workflow}}","input":{"__proto__":{"n":1}}}', status: 422, detail: /input\.n is required/, paths: ['input.n'] },
  { name: '__proto__ in state', to: 'PUT /api/state/{{done}}', body: '{"state":{"__proto__":{"polluted":"state"},"ok":1}}', status: 200 },
  { name: '__proto__ as a template parameter', to: 'POST /api/templates', body: '{"name":"t","workflow_definition_id":"{{workflow}}","parameters":{"__proto__":{"type":"string","default":"x"}}}', status: 201 },
  { name: '__proto__ in parameter_values', to: 'POST /api/templates/{{template}}/instantiate', body: '{"parameter_values":{"who":"w","__proto__":{"polluted":"params"}}}', status: 201 },
  { name: '__proto__ as the whole body', to: 'POST /api/checkpoints', body: '{"__proto__":{"execution_id":"x"}}', status: 422, paths: ['execution_id'] },
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

    const send = async (method: string, path: string, body?: string | ReadableStream<Uint8Array>, contentType?: string | null) => {
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
    /** `{{name}}` → that fixture's id. */
    const resolve = (text: string) =>
      text.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
        const id = (fixtures as Record<string, string>)[name]
        if (id === undefined) throw new Error(`no fixture {{${name}}}`)
        return id
      })
    const bodyOf = (body: Row['body']) =>
      body === undefined ? undefined : typeof body === 'function' ? body() : resolve(typeof body === 'string' ? body : JSON.stringify(body))
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

    it.each(rows)('$to: $name → $status', async (row) => {
      const [method, path] = resolve(row.to).split(' ') as [string, string]
      const response = await send(method, path, bodyOf(row.body), row.contentType)
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
        expect(problem.type).toBe(row.type ?? TYPES[row.status])
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
