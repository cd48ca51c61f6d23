import { allowsHost } from '../components/http-allow.js'
import type { SecretBox } from '../components/secret-box.js'
import { NotFoundError, ValidationError } from '../errors.js'
import { assertStorable } from '../json.js'
import { uuidv7 } from '../model/ids.js'
import { pageRequest, toPage } from '../model/paging.js'
import { parseWith } from '../model/parse.js'
import type { ListQuery, Page } from '../model/resources.js'
import { CreateSubscriptionSchema, toSubscription, type Subscription, type SubscriptionRecord } from '../model/subscriptions.js'
import { assertOpen, iso, requireId, type ServiceContext } from './context.js'
import type { SecretKeyring } from './secret-key.js'
import type { WebhookWorker } from './webhooks.js'

/**
 * Event subscriptions over the API (API.md "Event subscriptions"): created, listed, read and deleted here; delivered by
 * the worker (webhooks.ts). The secret is sealed at rest like component secrets and never returned (`has_secret`).
 */
export function createSubscriptionService(
  ctx: ServiceContext,
  deps: { worker: WebhookWorker; keyring: SecretKeyring; allow: readonly string[] | undefined },
) {
  const { keyring, worker } = deps

  function seal(secret: string | null): string | null {
    if (secret === null) return null
    if (!keyring.box) {
      const message = 'a subscription secret is stored encrypted: set HARMONIA_SECRET_KEY (32 bytes in base64) on this server first'
      throw new ValidationError([{ path: 'secret', message }])
    }
    return keyring.box.seal(secret)
  }

  /** A stored subscription with its secret opened; a start with no key or the wrong one stops and says so. */
  function open(record: SubscriptionRecord): SubscriptionRecord {
    if (record.secret === null) return record
    const id = record.subscription_id
    if (!keyring.box) throw new Error(`subscription ${id} has a stored secret: set HARMONIA_SECRET_KEY to the key it was stored with`)
    try {
      return { ...record, secret: keyring.box.open(record.secret) }
    } catch {
      throw new Error(`HARMONIA_SECRET_KEY does not open the stored secret of subscription ${id}: it is not the key it was stored with`)
    }
  }

  async function get(subscriptionId: string): Promise<SubscriptionRecord> {
    requireId('subscription', subscriptionId)
    const found = await ctx.store.subscriptions.get(subscriptionId)
    if (!found) throw new NotFoundError('subscription', subscriptionId)
    return found
  }

  return {
    /** Loads the stored subscriptions into the worker and starts it. */
    start: () => worker.start(open),
    /** Seals every stored subscription secret again with `next` (a key rotation; the keyring still has the old key). */
    async rotate(next: SecretBox): Promise<number> {
      let count = 0
      for (const stored of await ctx.store.subscriptions.all()) {
        if (stored.secret === null) continue
        await ctx.store.subscriptions.setSecret(stored.subscription_id, next.seal(open(stored).secret!))
        count++
      }
      return count
    },
    api: {
      /** Subscribes `url` to events (all, or `types`; of every workflow, or `workflow_id`): 201 Subscription. */
      async createSubscription(body: unknown): Promise<Subscription> {
        assertOpen(ctx)
        assertStorable(body, '')
        const parsed = parseWith(CreateSubscriptionSchema, body)
        if (deps.allow !== undefined && !allowsHost(deps.allow, new URL(parsed.url))) {
          throw new ValidationError([{ path: 'url', message: `host ${new URL(parsed.url).host} is not allowed (HARMONIA_HTTP_ALLOW)` }])
        }
        const at = ctx.now()
        const record: SubscriptionRecord = {
          subscription_id: uuidv7(at),
          url: parsed.url,
          types: parsed.types ?? null,
          workflow_id: parsed.workflow_id ?? null,
          secret: parsed.secret ?? null,
          created_at: iso(at),
          disabled_at: null,
          last_error: null,
          failing_since: null,
        }
        await ctx.store.subscriptions.create({ ...record, secret: seal(record.secret) })
        worker.add(record)
        ctx.logger.info('subscription created', { subscription_id: record.subscription_id, host: new URL(record.url).host })
        return toSubscription(record)
      },
      /** Every subscription, oldest first, paged as other lists. */
      async listSubscriptions(query: ListQuery = {}): Promise<Page<Subscription>> {
        const request = pageRequest(query)
        return toPage(await ctx.store.subscriptions.list(request), request, toSubscription)
      },
      async getSubscription(subscriptionId: string): Promise<Subscription> {
        return toSubscription(await get(subscriptionId))
      },
      /** Deletes a subscription and its delivery state: nothing more is sent. */
      async deleteSubscription(subscriptionId: string): Promise<void> {
        requireId('subscription', subscriptionId)
        worker.remove(subscriptionId)
        if (!(await ctx.store.subscriptions.delete(subscriptionId))) throw new NotFoundError('subscription', subscriptionId)
      },
    },
  }
}
export type SubscriptionService = ReturnType<typeof createSubscriptionService>
export type SubscriptionsApi = SubscriptionService['api']
