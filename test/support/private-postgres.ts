import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from './processes.js'

/**
 * A Postgres cluster of the test's own, which it may stop and start (an outage) without touching the shared server on
 * 5432: initdb into a temporary folder, listening on 127.0.0.1 at a free port, trust auth, its unix socket in the same
 * folder. initdb takes a few seconds: make one per test file.
 *
 * initdb and postgres refuse to run as root, so when the tests run as root every command runs as the `postgres` user
 * (runuser) and the folder is handed to it.
 */

export type PrivatePostgres = {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string
  port: number
  /** `pg_ctl stop -m fast`: the server ends its sessions and stops listening. */
  stop(): Promise<void>
  /** `pg_ctl start -w`: back on the same port, resolving once it accepts connections. */
  start(): Promise<void>
  /** Stops the server (when running) and removes the cluster's folder. Idempotent. */
  dispose(): Promise<void>
}

const BIN = process.env.PG_BIN ?? '/usr/local/bin'
const run = promisify(execFile)
const asRoot = process.getuid?.() === 0

/** Runs a Postgres binary, as the postgres user when we are root; its output is in the error when it fails. */
async function pg(binary: string, args: string[]): Promise<void> {
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(BIN, binary), ...args]] : [join(BIN, binary), args]
  try {
    await run(file, argv, { timeout: 120_000 })
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string }
    throw new Error(`${binary} ${args.join(' ')} failed: ${String(error)}\n${stdout}${stderr}`)
  }
}

/** initdb + start; see PrivatePostgres. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const root = await mkdtemp(join(tmpdir(), 'harmonia-pg-'))
  if (asRoot) await run('chown', ['postgres:postgres', root])
  const data = join(root, 'data')
  const port = await freePort()
  let running = false
  let disposed = false

  // No fsync and a small cluster: it lives for one test file.
  await pg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '--no-instructions', '-E', 'UTF8'])
  const options = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${root}`,
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=50',
    '-c shared_buffers=16MB',
  ].join(' ')

  const start = async () => {
    await pg('pg_ctl', ['start', '-w', '-t', '60', '-D', data, '-l', join(root, 'server.log'), '-o', options])
    running = true
  }
  const stop = async () => {
    await pg('pg_ctl', ['stop', '-m', 'fast', '-w', '-t', '60', '-D', data])
    running = false
  }
  try {
    await start()
  } catch (error) {
    await rm(root, { recursive: true, force: true })
    throw error
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop,
    start,
    async dispose() {
      if (disposed) return
      disposed = true
      if (running) await pg('pg_ctl', ['stop', '-m', 'immediate', '-w', '-D', data]).catch(() => {})
      await rm(root, { recursive: true, force: true })
    },
  }
}
