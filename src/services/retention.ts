import { iso, type ServiceContext } from './context.js'
import type { FinishedCache } from './finished.js'

export type RetentionOptions = { maxAgeSeconds: number; intervalSeconds?: number }

/** Retention: deletes finished executions (with all their rows) once they are older than a maximum age. */
export function createRetention(ctx: ServiceContext, finished: FinishedCache) {
  let sweeper: NodeJS.Timeout | null = null

  /** Deletes finished executions that ended more than `seconds` ago; returns how many. */
  async function purge(seconds: number): Promise<number> {
    const removed = await ctx.store.executions.deleteEndedBefore(iso(ctx.now() - seconds * 1000))
    finished.clear()
    if (removed > 0) ctx.cluster?.broadcast('purged', '')
    if (removed > 0) ctx.logger.info('retention: deleted finished executions', { count: removed })
    return removed
  }

  return {
    /** Deletes finished executions that ended more than `olderThanSeconds` ago (what `retention` does periodically). */
    purgeExecutions: (query: { olderThanSeconds: number }): Promise<number> => purge(query.olderThanSeconds),
    /** Sweeps now, then every `intervalSeconds` (default 3600), in the background. */
    start({ maxAgeSeconds, intervalSeconds = 3600 }: RetentionOptions): void {
      const sweep = () => {
        purge(maxAgeSeconds).catch((error: unknown) => ctx.logger.error('retention sweep failed', { error: String(error) }))
      }
      sweep()
      sweeper = setInterval(sweep, intervalSeconds * 1000)
      sweeper.unref()
    },
    stop(): void {
      if (sweeper) clearInterval(sweeper)
      sweeper = null
    },
  }
}
