import { hostname } from 'node:os'
import type { Supervisor } from '../actors/supervisor.js'
import type { ClusterStore, HeldLease } from '../db/store.js'
import type { Logger } from '../logger.js'
import { createIntervals } from './intervals.js'

/** The channel that says "there is work to claim" (an unowned execution was created, a lease was released). */
export const WORK_CHANNEL = 'harmonia_work'

export type OwnershipOptions = {
  nodeId: string
  version: string
  /** HARMONIA_LEASE_SECONDS (default 15). */
  leaseSeconds: number
  /** Executions this node holds at most (it claims no more past it, and creates new ones for others to claim). */
  maxExecutions: number
  /** How often the claim runs without a notification, ms (default 1,000). */
  pollMs?: number
  /** LISTEN for notifications (default true; false: polling alone, as behind a proxy that drops LISTEN). */
  notifications?: boolean
}

const CLAIM_BATCH = 100

/**
 * The lease keeper of one node (DESIGN.md "Several nodes on one Postgres", "Never two owners"):
 * - claims executions that are unowned, expired or whose owner is known to be gone, in bounded batches, up to the
 *   node's capacity, and restores them (recovery.ts) — at start, on a `harmonia_work` notification, and every second;
 * - renews the leases it holds every lease/3 (with the node's heartbeat); one the renewal does not return was taken
 *   by another node: it stops here at once;
 * - stops locally every execution whose lease it could not renew for lease − margin (measured from when the last
 *   renewal was SENT, so before the database's expiry whatever the clocks), aborting its handlers, before anyone else
 *   can claim it;
 * - releases (fenced by epoch) what it stops unfinished, so it is claimed at once — by another node, or by this one
 *   when the database answers again after an outage.
 * All of this runs on real time (leases are the database's clock), never on the engine's injected clock.
 */
export function createOwnership(
  deps: { cluster: ClusterStore; supervisor: Supervisor; logger: Logger; peers: { present: boolean } },
  options: OwnershipOptions,
) {
  const { cluster, supervisor, logger } = deps
  const { nodeId, leaseSeconds } = options
  const leaseMs = leaseSeconds * 1000
  // Give up well before the database's expiry: a renewal may have been delayed, a clock may run a little fast.
  const giveUpMs = leaseMs - Math.max(1000, Math.min(5000, leaseMs / 5))
  const renewedAt = new Map<string, number>()
  const toRelease = new Map<string, HeldLease>()
  let draining = false
  /** False for a node that only keeps what it starts itself (`recover: false`). */
  let claims = true
  let stopped = false
  let releaseQueued = false
  let claiming: Promise<void> | null = null
  let again = false
  const intervals = createIntervals()
  let unlisten: (() => Promise<void>) | undefined

  supervisorHooks()

  function supervisorHooks(): void {
    const hooks = supervisor.ownershipHooks
    hooks.started = (executionId) => renewedAt.set(executionId, Date.now())
    hooks.mayRun = (executionId) => {
      const at = renewedAt.get(executionId)
      if (at === undefined || Date.now() - at <= giveUpMs) return true
      giveUpLapsed()
      return false
    }
    hooks.dropped = (lease) => {
      renewedAt.delete(lease.execution_id)
      toRelease.set(lease.execution_id, lease)
      // Coalesced: a shutdown or a failed commit drops many at once, released by one statement.
      if (releaseQueued) return
      releaseQueued = true
      setImmediate(() => {
        releaseQueued = false
        void releaseDropped()
      })
    }
  }

  /** Owners on this host whose process is gone: their executions need no lease expiry to be taken over. */
  async function goneOwners(): Promise<string[]> {
    const host = `${hostname()}:`
    return (await cluster.owners()).filter((owner) => {
      if (owner === nodeId || !owner.startsWith(host)) return false
      const pid = Number(owner.slice(host.length))
      return Number.isInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid)
    })
  }

  async function claimOnce(takeOver: string[]): Promise<number> {
    const room = options.maxExecutions - supervisor.liveCount
    if (!claims || draining || stopped || room <= 0 || supervisor.saturated) return 0
    const limit = Math.min(room, CLAIM_BATCH)
    const sentAt = Date.now()
    const records = await cluster.claim({ owner: nodeId, limit, leaseSeconds, takeOver })
    for (const record of records) {
      const executionId = record.execution.execution_id
      // Claimed again while still running here (its lease had lapsed unnoticed): the stale copy goes first.
      if (supervisor.isLive(executionId)) supervisor.drop(executionId)
      renewedAt.set(executionId, sentAt)
      supervisor.recover(record)
    }
    if (records.length > 0) logger.info('claimed executions', { count: records.length })
    return records.length === limit ? limit : 0
  }

  /** One claim at a time; a request during one runs another after it. */
  function claim(takeOver: string[] = []): Promise<void> {
    if (claiming) {
      again = true
      return claiming
    }
    claiming = (async () => {
      try {
        // A full batch means there may be more: go on while capacity lasts.
        while ((await claimOnce(takeOver)) > 0) takeOver = []
      } catch (error) {
        logger.warn('claim failed', { error: String(error) })
      } finally {
        claiming = null
      }
      if (again && !stopped) {
        again = false
        await claim()
      }
    })()
    return claiming
  }

  async function releaseDropped(): Promise<void> {
    if (toRelease.size === 0) return
    const leases = [...toRelease.values()]
    try {
      await cluster.release(leases)
      for (const lease of leases) if (toRelease.get(lease.execution_id) === lease) toRelease.delete(lease.execution_id)
      await cluster.notify(WORK_CHANNEL, nodeId)
    } catch (error) {
      // Kept for the next round; until then the lease simply expires.
      logger.warn('could not release leases', { count: leases.length, error: String(error) })
    }
  }

  async function renew(): Promise<void> {
    const sentAt = Date.now()
    // Only leases at least a second old: a new execution's lease comes with its creating commit, which may not have
    // landed yet (its row would look lost).
    const held = supervisor.held().filter((lease) => (renewedAt.get(lease.execution_id) ?? 0) < sentAt - 1000)
    try {
      const renewed = new Set(await cluster.renew(nodeId, held, leaseSeconds))
      for (const lease of held) {
        if (renewed.has(lease.execution_id)) renewedAt.set(lease.execution_id, sentAt)
        else if (supervisor.isLive(lease.execution_id)) {
          logger.warn('lease lost: another node owns the execution now; it stops here', { execution_id: lease.execution_id })
          supervisor.drop(lease.execution_id)
        }
      }
      await cluster.heartbeat({ node_id: nodeId, version: options.version })
      await notePeers()
      await releaseDropped()
      const gone = await goneOwners()
      if (gone.length > 0) {
        logger.info('taking over the executions of processes that are gone', { owners: gone })
        await claim(gone)
      }
    } catch (error) {
      logger.warn('lease renewal failed', { error: String(error) })
    }
  }

  /** Whether other nodes are alive: commits carry hints for them only then. */
  async function notePeers(): Promise<void> {
    deps.peers.present = (await cluster.nodes(leaseSeconds * 2)).some((node) => node.node_id !== nodeId)
  }

  /** Stops here whatever could not be renewed in time (a database outage, a process that was frozen). */
  function giveUpLapsed(): void {
    const now = Date.now()
    for (const lease of supervisor.held()) {
      const at = renewedAt.get(lease.execution_id)
      if (at !== undefined && now - at > giveUpMs) {
        logger.warn('lease lapsed: the execution stops here until it is claimed again', { execution_id: lease.execution_id })
        supervisor.drop(lease.execution_id)
      }
    }
  }

  return {
    /**
     * At start: heartbeat, take back this node's own executions and those of gone processes, then claim on. Without
     * `claiming` (a tool that opens the store for a moment) it only keeps the leases of what it starts itself.
     */
    async start(claiming: boolean): Promise<number> {
      await cluster.heartbeat({ node_id: nodeId, version: options.version })
      await notePeers()
      const before = supervisor.liveCount
      claims = claiming
      if (claiming) await claim([nodeId, ...(await goneOwners())])
      if (claiming && (options.notifications ?? true)) {
        unlisten = await cluster.listen(
          WORK_CHANNEL,
          () => void claim(),
          () => void claim(),
        )
      }
      intervals.every(options.pollMs ?? 1000, () => {
        giveUpLapsed()
        if (claiming) void claim()
      })
      intervals.every(Math.max(200, leaseMs / 3), () => void renew())
      return supervisor.liveCount - before
    },
    /** Tells other nodes there is work to claim (an execution created unowned). */
    announce: () => cluster.notify(WORK_CHANNEL, nodeId),
    /** Whether this node may take one more execution (else a new one is created for any node to claim). */
    hasRoom: () => !draining && supervisor.liveCount < options.maxExecutions,
    /** Claims one execution nobody holds (a command for it reached this node); true when this node holds it now. */
    async claimOne(executionId: string): Promise<boolean> {
      if (stopped || draining) return false
      const sentAt = Date.now()
      const [record] = await cluster.claim({ owner: nodeId, limit: 1, leaseSeconds, ids: [executionId] })
      if (!record) return false
      renewedAt.set(executionId, sentAt)
      supervisor.recover(record)
      return true
    },
    /** Graceful stop, first step: claims nothing more, starts no attempt; resolves when those in flight finished. */
    drain(): Promise<void> {
      draining = true
      return supervisor.drain()
    },
    /**
     * Before the supervisor stops (a close): claims nothing more, once the claim in flight is done. Otherwise the
     * release of what the supervisor stops — announced on `harmonia_work`, which this node hears too — would bring it
     * straight back here, running handlers on a node that is closing (seen in a restart test: a task completed by the
     * closed engine).
     */
    async quiesce(): Promise<void> {
      draining = true
      await claiming
    },
    /** Last step (after the supervisor stopped): releases every lease so others take over at once. */
    async stop(): Promise<void> {
      stopped = true
      intervals.clear()
      await claiming
      await unlisten?.().catch(() => {})
      await releaseDropped()
      await cluster.heartbeat({ node_id: nodeId, version: options.version, stopped: true }).catch(() => {})
    },
  }
}
export type Ownership = ReturnType<typeof createOwnership>

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}
