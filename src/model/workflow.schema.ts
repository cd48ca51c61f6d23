/**
 * valibot schemas of the workflow definition body (API.md "Workflows"). The HTTP layer reuses them for OpenAPI.
 * Messages are phrased to follow the field name ("timeout" + "must be greater than 0 seconds"); the validator
 * (validate.ts) prefixes the field and, inside a task, the task id.
 * Unknown fields are dropped (a client may PUT back a workflow it fetched, with `workflow_id`, `created_at`, …).
 */
import * as v from 'valibot'
import { isPlainObject } from '../json.js'
import { DEFAULT_MAX_CONCURRENCY, INPUT_TYPES } from './definition.js'
import { isJsonSchemaInput, type JsonSchemaInput } from './json-schema-input.js'
import { CATCH_UP_POLICIES } from './schedule.js'

const nonEmptyString = v.pipe(v.string('must be a string'), v.minLength(1, 'must not be empty'))

/** Any JSON object (not an array, not null). */
export const JsonObjectSchema = v.custom<Record<string, unknown>>(isPlainObject, 'must be an object')

/** `v.record` that refuses arrays (valibot's record accepts `[1]` as `{"0": 1}`). */
export function objectRecord<K extends v.GenericSchema<string, string>, V extends v.GenericSchema>(
  key: K,
  value: V,
  message = 'must be an object',
) {
  return v.pipe(v.custom<unknown>(isPlainObject, message), v.record(key, value, message))
}

const positiveSeconds = v.pipe(
  v.number('must be a number of seconds'),
  v.finite('must be a finite number of seconds'),
  v.gtValue(0, 'must be greater than 0 seconds'),
)
const nonNegativeSeconds = v.pipe(
  v.number('must be a number of seconds'),
  v.finite('must be a finite number of seconds'),
  v.minValue(0, 'must not be negative'),
)

/** One accepted execution input: `{ type, required, default, description }`. */
export const InputFieldSchema = v.object(
  {
    type: v.optional(v.picklist(INPUT_TYPES, `must be one of ${INPUT_TYPES.join(', ')}`)),
    required: v.optional(v.boolean('must be true or false')),
    default: v.optional(v.unknown()),
    description: v.optional(v.string('must be a string')),
  },
  'must be an object such as { "type": "string", "required": true }',
)

/** `retry` as a number: how many times a failed attempt is retried. */
export const RetryCountSchema = v.pipe(
  v.number('must be a number'),
  v.integer('must be a whole number of retries'),
  v.minValue(0, 'must not be negative'),
)

/** `retry` as a policy object; intervals are in seconds. */
export const RetryPolicySchema = v.object(
  {
    max_attempts: v.optional(
      v.pipe(v.number('must be a number'), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1')),
    ),
    initial_interval: v.optional(nonNegativeSeconds),
    backoff_coefficient: v.optional(v.pipe(v.number('must be a number'), v.finite('must be finite'), v.minValue(1, 'must be at least 1'))),
    max_interval: v.optional(nonNegativeSeconds),
    jitter: v.optional(
      v.union(
        [v.boolean(), v.pipe(v.number(), v.minValue(0, 'must be between 0 and 1'), v.maxValue(1, 'must be between 0 and 1'))],
        'must be true, false or a fraction between 0 and 1',
      ),
    ),
    non_retryable_errors: v.optional(v.array(v.string('must be a string'), 'must be a list of error codes or names')),
  },
  'must be a retry policy object',
)

export const RetrySchema = v.union([RetryCountSchema, RetryPolicySchema], 'must be a number of retries or a retry policy object')

/** One task of the list form; `id` is required. */
export const TaskSchema = v.object(
  {
    id: nonEmptyString,
    name: v.optional(v.string('must be a string')),
    component: nonEmptyString,
    action: nonEmptyString,
    input: v.optional(v.unknown(), () => ({})),
    depends_on: v.optional(v.array(nonEmptyString, 'must be a list of task ids'), () => []),
    timeout: v.optional(positiveSeconds),
    retry: v.optional(RetrySchema),
    when: v.optional(v.string('must be a string (a condition expression)')),
    /** What the task produces, as the seed's data model describes it: kept and returned as given. */
    output: v.optional(JsonObjectSchema),
    metadata: v.optional(JsonObjectSchema, () => ({})),
    for_each: v.optional(
      v.union([v.string(), v.array(v.unknown())], 'must be an expression such as "${input.items}" or a list'),
    ),
    for_each_concurrency: v.optional(
      v.pipe(v.number('must be a number'), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1')),
    ),
    continue_on_error: v.optional(v.boolean('must be true or false')),
  },
  'must be an object',
)

/** One task of the map form (`tasks: { "<id>": {...} }`): `id` may be left out; if present it must equal the key. */
export const TaskEntrySchema = v.object({ ...TaskSchema.entries, id: v.optional(nonEmptyString) }, 'must be an object')

/** `tasks`: a list, or a map keyed by task id (normalised to a list in definition order). */
export const TasksSchema = v.union(
  [
    v.array(TaskSchema, 'must be a list of tasks or a map of tasks keyed by id'),
    v.pipe(
      v.record(v.string(), TaskEntrySchema),
      v.transform((map) => Object.entries(map).map(([id, task]) => ({ ...task, id: task.id ?? id }))),
    ),
  ],
  'must be a list of tasks or a map of tasks keyed by id',
)

/** One cron schedule (API.md "Schedules"); the cron and time zone themselves are checked by validate.ts. */
export const ScheduleSchema = v.object(
  {
    cron: v.pipe(v.string('must be a string (a cron expression)'), v.minLength(1, 'must not be empty')),
    timezone: v.optional(v.pipe(v.string('must be a string (an IANA time zone)'), v.minLength(1, 'must not be empty')), 'UTC'),
    input: v.optional(JsonObjectSchema, () => ({})),
    catch_up: v.optional(v.picklist(CATCH_UP_POLICIES, `must be one of ${CATCH_UP_POLICIES.join(', ')}`), 'skip'),
    enabled: v.optional(v.boolean('must be true or false'), true),
  },
  'must be an object such as { "cron": "*/5 * * * *" }',
)

/** The fields of a workflow body besides `tasks`. */
const workflowEntries = {
  name: nonEmptyString,
  description: v.optional(v.string('must be a string'), ''),
  /** Accepted and ignored: the server numbers versions. */
  version: v.optional(v.union([v.string(), v.number()], 'must be a string or a number')),
  metadata: v.optional(JsonObjectSchema, () => ({})),
  input: v.optional(
    v.union(
      [v.custom<JsonSchemaInput>(isJsonSchemaInput), objectRecord(v.string(), InputFieldSchema, 'must be an object of input fields')],
      'must be an object of input fields, or a JSON Schema with "type": "object"',
    ),
    () => ({}),
  ),
  output: v.optional(JsonObjectSchema, () => ({})),
  max_concurrency: v.optional(
    v.pipe(v.number('must be a number'), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1')),
    DEFAULT_MAX_CONCURRENCY,
  ),
  timeout: v.optional(positiveSeconds),
  fail_fast: v.optional(v.boolean('must be true or false'), false),
  schedules: v.optional(v.array(ScheduleSchema, 'must be a list of schedules'), () => []),
}

/** The workflow body as a client sends it (POST/PUT /api/workflows). */
export const WorkflowDefinitionSchema = v.object({ ...workflowEntries, tasks: TasksSchema }, 'must be an object')

/** The same body once `tasks` is a list: what the validator checks after normalising a map of tasks itself. */
export const WorkflowDefinitionListSchema = v.object(
  { ...workflowEntries, tasks: v.array(TaskSchema, 'must be a list of tasks or a map of tasks keyed by id') },
  'must be an object',
)

export type WorkflowDefinitionBody = v.InferInput<typeof WorkflowDefinitionSchema>
