import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { drivers, type EmptyDatabase } from './db.js'
import { cleanEnv, freePort, request, startNode, stop, type Child } from './processes.js'

/**
 * Several real Harmonia nodes (test/cluster/node-child.ts) on one Postgres database of their own, for the cluster
 * suites: start and stop them one by one, read the handler calls they recorded, talk to each over HTTP.
 */

export type ClusterNode = { id: string; url: string; child: Child; pid: number }

export type TestCluster = {
  database: EmptyDatabase
  /** Starts one more node (`id` names it: HARMONIA_NODE_ID); `env` adds to the cluster's environment. */
  start(id: string, env?: Record<string, string>): Promise<ClusterNode>
  /** Every handler call so far: `{node, execution, task, index, attempt}`. */
  calls(): Array<{ node: string; execution: string; task: string; index: string; attempt: number }>
  dispose(): Promise<void>
}

export const postgresDriver = drivers.find((d) => d.name === 'postgres')!

export async function createCluster(env: Record<string, string> = {}): Promise<TestCluster> {
  const database = await postgresDriver.empty()
  const dir = await mkdtemp(join(tmpdir(), 'harmonia-cluster-'))
  const log = join(dir, 'calls.log')
  const nodes: ClusterNode[] = []
  return {
    database,
    async start(id, extra = {}) {
      const port = await freePort()
      const child = startNode(
        ['test/cluster/node-child.ts'],
        cleanEnv({
          DATABASE_URL: database.location,
          HARMONIA_PORT: String(port),
          HARMONIA_NODE_ID: id,
          CALL_LOG: log,
          HARMONIA_LOG_LEVEL: 'warn',
          ...env,
          ...extra,
        }),
      )
      await child.waitFor(/NODE_READY/, `node ${id} to start`, 120_000)
      const node = { id, url: `http://127.0.0.1:${port}`, child, pid: child.process.pid! }
      nodes.push(node)
      return node
    },
    calls() {
      if (!existsSync(log)) return []
      return readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [node, execution, task, index, attempt] = line.split(' ')
          return { node: node!, execution: execution!, task: task!, index: index!, attempt: Number(attempt) }
        })
    },
    async dispose() {
      for (const n of nodes) {
        try {
          process.kill(n.pid, 'SIGCONT')
        } catch {
          // gone already
        }
        await stop(n.child)
      }
      await database.dispose()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** Polls `check` every 50 ms until it holds; a deadline for a slow machine, not a timed assertion. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Creates a workflow on `url`; resolves with its id. */
export async function createWorkflow(url: string, definition: unknown): Promise<string> {
  const created = await request(`${url}/api/workflows`, { body: definition })
  if (created.status !== 201) throw new Error(`workflow refused: ${created.status} ${created.text}`)
  return created.body.workflow_id as string
}

/** Starts an execution on `url`; resolves with its id. */
export async function startExecution(url: string, workflowId: string, input: unknown = {}): Promise<string> {
  const started = await request(`${url}/api/executions`, { body: { workflow_id: workflowId, input } })
  if (started.status !== 201 && started.status !== 202) throw new Error(`execution refused: ${started.status} ${started.text}`)
  return started.body.execution_id as string
}

/** A chain of `n` `rec.work` tasks of `ms` each: t1 → t2 → … */
export function chain(name: string, n: number, ms: number) {
  return {
    name,
    tasks: Array.from({ length: n }, (_, i) => ({
      id: `t${i + 1}`,
      component: 'rec',
      action: 'work',
      depends_on: i === 0 ? [] : [`t${i}`],
      input: { deps: i === 0 ? [] : [`\${tasks.t${i}.output.value}`], ms },
    })),
  }
}
