import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'

/**
 * Real child processes for the end-to-end suites: a Harmonia server (src/main.ts or a script like it) or an example
 * component, with its stdout and stderr captured. Every process started here is remembered until it exits, so that an
 * afterAll/afterEach can kill whatever a failing test left running.
 */

export const ROOT = join(import.meta.dirname, '..', '..')

/** A port nobody listens on right now (the kernel's pick, released at once). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/**
 * The environment of a child with nothing of the parent's Harmonia settings (tokens, config, Hermes, database): only
 * what `extra` sets. vitest's own HARMONIA_LOG_LEVEL is dropped too.
 */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('HARMONIA_') || ['DATABASE_URL', 'HERMES_URL', 'PORT', 'HOST', 'PROMETHEUS_SECRET'].includes(key)) continue
    env[key] = value
  }
  return { ...env, ...extra }
}

export type Child = {
  process: ChildProcess
  /** stdout and stderr as captured so far, interleaved as they arrived. */
  output(): string
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>
  /** Resolves with the first match of `pattern` in the output (seen or to come); rejects on exit or after `ms`. */
  waitFor(pattern: RegExp, what: string, ms?: number): Promise<RegExpExecArray>
}

const running = new Set<Child>()

/** Starts `node <args>` (tsx loaded, so TypeScript scripts run as they are) in the repository root. */
export function startNode(args: string[], env: NodeJS.ProcessEnv): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const listeners = new Set<() => void>()
  const append = (chunk: Buffer) => {
    out += chunk.toString()
    for (const listener of [...listeners]) listener()
  }
  child.stdout.on('data', append)
  child.stderr.on('data', append)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const handle: Child = {
    process: child,
    output: () => out,
    exited,
    waitFor(pattern, what, ms = 60_000) {
      return new Promise((resolve, reject) => {
        const done = () => {
          listeners.delete(check)
          clearTimeout(timer)
        }
        const check = () => {
          const match = pattern.exec(out)
          if (match === null) return
          done()
          resolve(match)
        }
        // A deadline for a start, not a timed assertion: a loaded machine gets a minute.
        const timer = setTimeout(() => {
          done()
          reject(new Error(`timed out waiting for ${what}; output:\n${out.slice(-3000)}`))
        }, ms)
        listeners.add(check)
        void exited.then((code) => {
          if (!listeners.has(check)) return
          done()
          reject(new Error(`the process exited (${code}) before ${what}; output:\n${out.slice(-3000)}`))
        })
        check()
      })
    },
  }
  running.add(handle)
  void exited.then(() => running.delete(handle))
  return handle
}

/** Sends `signal` and waits for the exit; a process that has already exited is left alone. */
export async function stop(child: Child, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
  if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill(signal)
  return child.exited
}

/** Kills every process started by startNode that is still running (for afterAll/afterEach). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((child) => stop(child)))
}

/** A JSON request to a server: the status, the body as text and as parsed JSON (undefined when it is not JSON). */
export async function request(
  url: string,
  init: { method?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; text: string; body: any }> {
  const raw = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body))
  const response = await fetch(url, {
    method: init.method ?? (raw === undefined ? 'GET' : 'POST'),
    headers: { ...(raw === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    ...(raw === undefined ? {} : { body: raw }),
  })
  const text = await response.text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  return { status: response.status, text, body }
}
