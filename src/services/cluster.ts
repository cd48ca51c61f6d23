import type { Journal } from '../actors/journal.js'
import type { Supervisor } from '../actors/supervisor.js'
import type { ClusterStore, NodeRecord } from '../db/store.js'
import type { Logger } from '../logger.js'
import { createCommands, type CommandHandler } from './commands.js'
import { createEventFeed } from './event-feed.js'
import { createOwnership } from './ownership.js'

/** Changes other nodes may keep in memory: `<node> <kind> <id>`. */
const CHANGES_CHANNEL = 'harmonia_changes'

export type ClusterOptions = {
  nodeId: string
  version: string
  leaseSeconds: number
  maxExecutions: number
  /** LISTEN for notifications (false: polling alone). */
  notifications: boolean
}

/**
 * Several nodes on one database (API.md "Several nodes"), as the services see it: where an execution another node
 * holds is commanded (`run`), whether this node takes new work (`hasRoom`), other nodes' events (the feed), and the
 * node list. Assembles the lease keeper (ownership.ts), cross-node commands (commands.ts) and the feed (event-feed.ts).
 */
export function createCluster(
  deps: { cluster: ClusterStore; supervisor: Supervisor; journal: Journal; logger: Logger; peers: { present: boolean } },
  options: ClusterOptions,
) {
  const { cluster, supervisor, journal, logger } = deps
  const { notifications, leaseSeconds } = options
  const ownership = createOwnership({ cluster, supervisor, logger, peers: deps.peers }, options)
  const commands = createCommands({ cluster, supervisor, ownership, logger, nodeId: options.nodeId }, { leaseSeconds, notifications })
  const feed = createEventFeed({ cluster, supervisor, journal, logger }, { notifications })
  let started = false
  const changeListeners = new Map<string, Array<(id: string) => void>>()
  let unlistenChanges: (() => Promise<void>) | undefined

  function onChangeNotice(payload: string): void {
    const [from, kind, id = ''] = payload.split(' ')
    if (from === options.nodeId || kind === undefined) return
    for (const listener of changeListeners.get(kind) ?? []) listener(id)
  }

  return {
    /** Runs `op` where the execution is held (here, or through its owner); answers as the owner did. */
    run: (executionId: string, op: string, args: unknown) => commands.run(executionId, op, args),
    /** What the owner runs for a command `op`. */
    handle: (op: string, handler: CommandHandler) => commands.handle(op, handler),
    hasRoom: ownership.hasRoom,
    /** Tells the other nodes that an execution waits to be claimed. */
    announce: () => ownership.announce(),
    /**
     * Tells the other nodes that something they may keep in memory changed (`workflow` <id>: a version or a delete;
     * `purged`: finished executions deleted). A hint: a node that misses it reads again within a second or so.
     */
    broadcast(kind: string, id: string): void {
      cluster.notify(CHANGES_CHANNEL, `${options.nodeId} ${kind} ${id}`).catch(() => {})
    },
    /** Calls `listener` with the id of each change of `kind` another node broadcasts. */
    onChange(kind: string, listener: (id: string) => void): void {
      changeListeners.set(kind, [...(changeListeners.get(kind) ?? []), listener])
    },
    /** The workflow of an execution another node runs, when the feed has seen it. */
    workflowOf: feed.workflowOf,
    /** Starts serving commands and the feed; with `claim`, takes this node's share of the work (returns how many). */
    async start(claim: boolean): Promise<number> {
      // Once per node: a second `recover()` finds its loops running already.
      if (started) return 0
      started = true
      if (notifications) unlistenChanges = await cluster.listen(CHANGES_CHANNEL, onChangeNotice)
      await commands.start()
      await feed.start()
      // The others send hints from their next renewal on; this tells them now.
      changeListeners.set('node', [...(changeListeners.get('node') ?? []), () => (deps.peers.present = true)])
      cluster.notify(CHANGES_CHANNEL, `${options.nodeId} node ${options.nodeId}`).catch(() => {})
      const claimed = await ownership.start(claim)
      void commands.serve()
      return claimed
    },
    /** The live nodes (seen within two leases). */
    nodes: (): Promise<NodeRecord[]> => cluster.nodes(leaseSeconds * 2),
    /** Graceful stop, first step: no new claims, no new attempts; resolves once the attempts in flight are done. */
    drain: () => ownership.drain(),
    /** Before the supervisor stops: no claim from now on (ownership.ts `quiesce`). */
    quiesce: () => ownership.quiesce(),
    /** After the supervisor stopped: releases the leases, stops listening. */
    async stop(): Promise<void> {
      if (!started) return
      await unlistenChanges?.().catch(() => {})
      await feed.stop()
      await commands.stop()
      await ownership.stop()
    },
  }
}
export type Cluster = ReturnType<typeof createCluster>
