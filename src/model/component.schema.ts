import * as v from 'valibot'
import { isPlainObject } from '../json.js'
import { COMPONENT_NAME } from './components.js'
import { MAX_TIMER_SECONDS } from './limits.js'

/** An absolute http(s) URL without query or fragment: actions are called at `{url}/api/actions/{action}`. */
const baseUrl = v.pipe(
  v.string('url must be a string'),
  v.check((text) => {
    try {
      const url = new URL(text)
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.search === '' && url.hash === ''
    } catch {
      return false
    }
  }, 'url must be an absolute http(s) URL without query or fragment'),
)

const action = v.pipe(v.string('each action must be a string'), v.nonEmpty('an action name must not be empty'), v.maxLength(200))

/** The fields of a remote component (API.md "Remote components") besides its name. */
const componentEntries = {
  url: baseUrl,
  actions: v.optional(
    v.pipe(
      v.array(action, 'actions must be a list of action names'),
      v.nonEmpty('actions must name at least one action (leave it out to allow any)'),
      v.check((list) => new Set(list).size === list.length, 'actions must not repeat a name'),
    ),
  ),
  secret: v.optional(v.pipe(v.string('secret must be a string'), v.nonEmpty('secret must not be empty'), v.maxLength(1000))),
  timeout: v.optional(
    v.pipe(
      v.number('timeout must be a number of seconds'),
      v.gtValue(0, 'timeout must be greater than 0 seconds'),
      v.maxValue(MAX_TIMER_SECONDS, `timeout must be at most ${MAX_TIMER_SECONDS} seconds`),
    ),
  ),
  description: v.optional(v.string('description must be a string'), ''),
  metadata: v.optional(v.custom<Record<string, unknown>>(isPlainObject, 'metadata must be an object'), () => ({})),
}

/** `POST /api/components`. */
export const CreateComponentSchema = v.object({
  name: v.pipe(v.string('name must be a string'), v.regex(COMPONENT_NAME, 'name must be 1 to 100 letters, digits, `_`, `.` or `-`')),
  ...componentEntries,
})

/** `PUT /api/components/{name}`: the whole component again (the name is the path's; a `name` in the body must match). */
export const ReplaceComponentSchema = v.object({ name: v.optional(v.string('name must be a string')), ...componentEntries })

export type ComponentBody = v.InferOutput<typeof CreateComponentSchema>

const attempt = v.optional(v.pipe(v.number('attempt must be a number'), v.integer('attempt must be a whole number'), v.minValue(1)))

/** `POST /api/executions/{id}/tasks/{task_id}/complete`. */
export const CompleteTaskSchema = v.object({ output: v.optional(v.unknown()), attempt })

/** `POST /api/executions/{id}/tasks/{task_id}/fail`. */
export const FailTaskSchema = v.object({
  error: v.object(
    {
      message: v.pipe(v.string('error.message must be a string'), v.nonEmpty('error.message must not be empty')),
      code: v.optional(v.string()),
    },
    'error must be an object with a message',
  ),
  retryable: v.optional(v.boolean('retryable must be true or false'), true),
  attempt,
})
