/**
 * Real Harmonia server processes for the multi-node bench (nodes.ts): a database of their own on a Postgres server,
 * `node dist/main.js` per node (what `npm start` runs) on a free port, their CPU time from /proc, and a stop that cannot hang.
 * A few lines are copied from test/support/processes.ts (freePort, the clean environment) so the bench does not
 * depend on test/.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import postgres from 'postgres'

const ROOT = join(import.meta.dirname, '..')

/** A port nobody listens on right now (the kernel's pick, released at once). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** The parent's environment without its Harmonia settings (tokens, config, database), plus `extra`. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('HARMONIA_') || ['DATABASE_URL', 'HERMES_URL', 'PORT', 'HOST', 'PROMETHEUS_SECRET'].includes(key)) continue
    env[key] = value
  }
  return { ...env, ...extra }
}

/** A database `harmonia_nodes_bench_<pid>_<n>` on the server at `serverUrl`, dropped (connections forced out) by `drop`. */
export async function createDatabase(serverUrl: string, suffix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `harmonia_nodes_bench_${process.pid}_${suffix}`
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {}, connect_timeout: 3 })
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`)
  } catch (error) {
    await admin.end()
    throw error
  }
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop() {
      await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {})
      await admin.end()
    },
  }
}

export type Node = { id: string; url: string; process: ChildProcess; output(): string; exited: Promise<void> }

/** Compiles src/ to dist/ if it is missing or stale (as `npm start` does), once per bench run. */
let built = false
function ensureBuilt(): void {
  if (built) return
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' })
  built = true
}

/**
 * Spawns one server as `npm start` does (the compiled dist/main.js, same node flags), without an npm wrapper: the
 * child's pid is the node process itself, whose /proc stat counts all its threads. Resolves once GET /health answers
 * 200; rejects if the process exits first or after `ms`.
 */
export async function startNode(database: string, id: string, ms = 60_000): Promise<Node> {
  const port = await freePort()
  // BENCH_NODE_ENV adds settings to every node, `KEY=value` pairs separated by commas (e.g. HARMONIA_NOTIFICATIONS=off).
  const extra = Object.fromEntries(
    (process.env.BENCH_NODE_ENV ?? '')
      .split(',')
      .filter((pair) => pair.includes('='))
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  )
  const env = cleanEnv({
    HARMONIA_LOG_LEVEL: 'warn',
    ...extra,
    // A postgres:// URL, or else a PGlite data folder.
    ...(/^postgres(ql)?:\/\//.test(database) ? { DATABASE_URL: database } : { HARMONIA_DATA_DIR: database }),
    HARMONIA_PORT: String(port),
    HARMONIA_NODE_ID: id,
  })
  // BENCH_NODE_FLAGS adds node flags to every node (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile them).
  const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean)
  ensureBuilt()
  const child = spawn(process.execPath, ['--max-semi-space-size=16', ...flags, 'dist/main.js'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  const append = (chunk: Buffer) => (out = (out + chunk.toString()).slice(-20_000))
  child.stdout.on('data', append)
  child.stderr.on('data', append)
  let gone = false
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  void exited.then(() => (gone = true))
  const node: Node = { id, url: `http://127.0.0.1:${port}`, process: child, output: () => out, exited }
  const deadline = Date.now() + ms
  for (;;) {
    if (gone) throw new Error(`${id} exited before answering /health:\n${out.slice(-2000)}`)
    if (Date.now() > deadline) {
      await stopNode(node)
      throw new Error(`${id} did not answer /health within ${ms / 1000} s:\n${out.slice(-2000)}`)
    }
    const ok = await fetch(`${node.url}/health`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status === 200,
      () => false,
    )
    if (ok) return node
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** SIGTERM (a graceful close), then SIGKILL after `graceMs` if it is still there. */
export async function stopNode(node: Node, graceMs = 10_000): Promise<void> {
  if (node.process.exitCode !== null || node.process.signalCode !== null) return
  node.process.kill('SIGTERM')
  const timer = setTimeout(() => node.process.kill('SIGKILL'), graceMs)
  await node.exited
  clearTimeout(timer)
}

let ticks: number | undefined
/** Clock ticks per second of /proc's utime and stime (`getconf CLK_TCK`, 100 on Linux unless told otherwise). */
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      ticks = 100
    }
  }
  return ticks
}

/** CPU seconds (user + system, all threads) used so far by each node, summed; NaN when /proc cannot be read. */
export function cpuSeconds(nodes: Node[]): number {
  let total = 0
  for (const node of nodes) {
    try {
      const stat = readFileSync(`/proc/${node.process.pid}/stat`, 'utf8')
      // The command name is in parentheses and may hold spaces: count fields after the last ')'. Field 3 (state) is
      // the first there, so utime (14) and stime (15) are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      total += (Number(fields[11]) + Number(fields[12])) / clockTicks()
    } catch {
      return NaN
    }
  }
  return total
}

/** The machine's CPU time so far (all cores, from /proc/stat): busy and total jiffies, to show how loaded it was. */
export function machineTicks(): { busy: number; total: number } {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
    // user nice system idle iowait irq softirq steal …: idle and iowait are the only ones not busy.
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0)
    return { busy: total - fields[3]! - fields[4]!, total }
  } catch {
    return { busy: NaN, total: NaN }
  }
}

/** Percent of the machine's CPU busy between two `machineTicks()` readings. */
export const busyPercent = (a: { busy: number; total: number }, b: { busy: number; total: number }): number =>
  ((b.busy - a.busy) / (b.total - a.total)) * 100
