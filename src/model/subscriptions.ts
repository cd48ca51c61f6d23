import * as v from 'valibot'
import { ValidationError } from '../errors.js'
import { EVENT_TYPES, type EventType } from './events.js'

/** Event subscriptions (API.md "Event subscriptions (webhooks)") and event filters ("Event filters"). */

/** A subscription as stored: `secret` is sealed (secrets at rest) in the store, plain in the engine's memory. */
export type SubscriptionRecord = {
  subscription_id: string
  url: string
  /** Event names to send; null: every event. */
  types: EventType[] | null
  workflow_id: string | null
  secret: string | null
  created_at: string
  /** Set when the receiver kept failing for 24 h: nothing more is sent. */
  disabled_at: string | null
  last_error: string | null
  /** Since when deliveries fail with no success in between; null while healthy. */
  failing_since: string | null
}

/** A subscription on the wire: never its secret, only whether it has one. */
export type Subscription = Omit<SubscriptionRecord, 'secret'> & { has_secret: boolean }

/** How far one subscription got with one execution's events (the durable delivery state). */
export type SubscriptionCursor = {
  subscription_id: string
  execution_id: string
  /** The seq of the last event the receiver accepted (or that the subscription does not want). */
  delivered_seq: number
  /** Failed attempts at the next event since the last success. */
  attempts: number
  next_attempt_at: string | null
  last_error: string | null
}

/** A cursor that is behind its execution's last committed event. */
export type PendingCursor = SubscriptionCursor & { last_seq: number }

export const toSubscription = ({ secret, ...rest }: SubscriptionRecord): Subscription => ({ ...rest, has_secret: secret !== null })

const eventType = v.picklist(EVENT_TYPES, `each type must be an event name: ${EVENT_TYPES.join(', ')}`)

/** An absolute http(s) URL without a fragment (a query may carry the receiver's own token). */
const webhookUrl = v.pipe(
  v.string('url must be a string'),
  v.maxLength(2000, 'url must be at most 2000 characters'),
  v.check((text) => {
    try {
      const url = new URL(text)
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hash === '' && url.username === '' && url.password === ''
    } catch {
      return false
    }
  }, 'url must be an absolute http(s) URL without credentials or fragment'),
)

/**
 * `POST /api/subscriptions`. Strict: a misspelt field (`type` for `types`) would otherwise subscribe to every event
 * without a word, so an unknown field is a 422 naming it.
 */
export const CreateSubscriptionSchema = v.strictObject(
  {
    url: webhookUrl,
    types: v.optional(
      v.pipe(
        v.array(eventType, 'types must be a list of event names'),
        v.nonEmpty('types must name at least one event (leave it out for every event)'),
        v.check((list) => new Set(list).size === list.length, 'types must not repeat a name'),
      ),
    ),
    workflow_id: v.optional(v.pipe(v.string('workflow_id must be a string'), v.uuid('workflow_id must be a UUID'))),
    secret: v.optional(v.pipe(v.string('secret must be a string'), v.nonEmpty('secret must not be empty'), v.maxLength(1000))),
  },
  'a subscription takes url, types, workflow_id and secret only',
)
export type CreateSubscriptionBody = v.InferOutput<typeof CreateSubscriptionSchema>

/**
 * The `?types=a,b` of an event stream: undefined when absent or blank (every event); a name that is not an event → a
 * 422 naming `types`.
 */
export function parseTypesQuery(raw: string | undefined): ReadonlySet<EventType> | undefined {
  if (raw === undefined) return undefined
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (names.length === 0) return undefined
  const unknown = names.filter((n) => !(EVENT_TYPES as readonly string[]).includes(n))
  if (unknown.length > 0)
    throw new ValidationError(
      [{ path: 'types', message: `unknown event type ${unknown.join(', ')}: types must name events among ${EVENT_TYPES.join(', ')}` }],
      'Invalid query',
    )
  return new Set(names as EventType[])
}
