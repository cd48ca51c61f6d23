import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { stat } from 'node:fs/promises'
import { constants } from 'node:os'
import { TerminalTaskError } from '../errors.js'
import { collectCapped, type CappedText } from './capped-output.js'
import { killProcessGroup } from './process-group.js'
import type { Component, HandlerContext } from './handler.js'
import { parseShellInput, type ShellInput } from './shell-input.js'

/** Bytes kept per stream unless the factory is told otherwise (API.md: 1 MiB). */
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024
/** Time between SIGTERM and SIGKILL unless the factory is told otherwise. */
export const DEFAULT_KILL_GRACE_MS = 2_000

export type ShellComponentOptions = {
  /** Bytes kept per stream (stdout, stderr); the rest is read and dropped. Default 1 MiB. */
  maxOutputBytes?: number
  /** How long a process group has between SIGTERM and SIGKILL. Default 2 s. */
  killGraceMs?: number
}

/** The output of `execute_command`. A `*_truncated` flag is present (true) only when the cap cut that stream. */
export type ShellOutput = {
  exit_code: number
  stdout: string
  stderr: string
  /** stdout without its trailing newline. */
  result: string
  stdout_truncated?: true
  stderr_truncated?: true
}

type Limits = Required<ShellComponentOptions>
type Exit = { code: number | null; signal: NodeJS.Signals | null }

/** Errors that say the machine is short of processes, files or memory: worth another attempt. */
const TRANSIENT_SPAWN_ERRORS = ['EAGAIN', 'EMFILE', 'ENFILE', 'ENOMEM']
const STDERR_IN_MESSAGE = 500

const retryable = (message: string, code: string) => Object.assign(new Error(message), { code })

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  )
}

/** A clear reason for a command that could not start (Node's own says `spawn /bin/sh ENOENT` for a missing cwd). */
async function spawnFailure(error: unknown, input: ShellInput): Promise<Error> {
  const errno = (error as NodeJS.ErrnoException).code ?? ''
  const reason = error instanceof Error ? error.message : String(error)
  if (TRANSIENT_SPAWN_ERRORS.includes(errno)) return retryable(`cannot start the command: ${reason}`, 'spawn_failed')
  const message =
    input.cwd !== undefined && !(await isDirectory(input.cwd))
      ? `cannot start the command: cwd ${JSON.stringify(input.cwd)} is not an existing directory`
      : errno === 'ENOENT'
        ? `cannot start ${JSON.stringify(input.file)}: not found${input.file.includes('/') ? '' : ' on PATH'}`
        : `cannot start ${JSON.stringify(input.file)}: ${reason}`
  return new TerminalTaskError(message, { code: 'spawn_failed', cause: error })
}

/** Resolves with the promise's value, or undefined after `ms`; the timer never outlives the wait. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer))
}

/** The output of a finished command, or the retryable failure of a non-zero exit without allow_failure. */
function outputOf(exit: Exit, stdout: CappedText, stderr: CappedText, input: ShellInput): ShellOutput {
  // Killed by a signal (not by us): report it as a shell does, 128 + the signal's number.
  const exitCode = exit.code ?? 128 + (exit.signal ? constants.signals[exit.signal] : 0)
  if (exitCode !== 0 && !input.allowFailure) {
    const killed = exit.signal ? ` (killed by ${exit.signal})` : ''
    const text = stderr.text.trim()
    const excerpt = text.length > STDERR_IN_MESSAGE ? `${text.slice(0, STDERR_IN_MESSAGE)}…` : text
    throw retryable(`command exited with code ${exitCode}${killed}${excerpt ? `: ${excerpt}` : ' (no stderr)'}`, `exit_${exitCode}`)
  }
  const output: ShellOutput = { exit_code: exitCode, stdout: stdout.text, stderr: stderr.text, result: stdout.text.replace(/\r?\n$/, '') }
  if (stdout.truncated) output.stdout_truncated = true
  if (stderr.truncated) output.stderr_truncated = true
  return output
}

async function executeCommand(input: ShellInput, ctx: HandlerContext, limits: Limits): Promise<ShellOutput> {
  ctx.signal.throwIfAborted()
  // detached: the child leads a process group of its own, so a timeout or cancel can end it and all it started.
  let child: ChildProcessWithoutNullStreams
  try {
    child = spawn(input.file, input.args, { cwd: input.cwd, env: { ...process.env, ...input.env }, detached: true, stdio: 'pipe' })
  } catch (error) {
    throw await spawnFailure(error, input) // ENOTDIR (cwd is a file), E2BIG… are thrown, not emitted
  }
  const pgid = child.pid // undefined when the spawn failed
  const stdout = collectCapped(child.stdout, limits.maxOutputBytes)
  const stderr = collectCapped(child.stderr, limits.maxOutputBytes)
  const exited = new Promise<Exit>((resolve, reject) => {
    child.once('error', reject) // only a failed spawn: neither child.kill() nor IPC is used
    child.once('close', (code, signal) => resolve({ code, signal }))
  })
  exited.catch(() => {}) // awaited below; this keeps a spawn error from counting as unhandled before then

  // Runs once, whichever comes first: the main process exiting (then it ends what it left behind), a timeout, an abort.
  let ending: Promise<void> | undefined
  const endGroup = () =>
    (ending ??= (async () => {
      if (pgid === undefined) return
      if (!(await killProcessGroup(pgid, limits.killGraceMs))) ctx.logger.warn('shell: a process of the command survived SIGKILL', { pgid })
      // A process that left the group (setsid) may still hold the pipes: let them drain a moment, then stop reading.
      await within(
        exited.catch(() => undefined),
        limits.killGraceMs,
      )
      child.stdout.destroy()
      child.stderr.destroy()
    })())
  let stopped: { kind: 'timeout'; seconds: number } | { kind: 'abort'; reason: unknown } | undefined
  const stop = (why: NonNullable<typeof stopped>) => {
    stopped ??= why
    void endGroup()
  }
  const { timeoutMs } = input
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => stop({ kind: 'timeout', seconds: timeoutMs / 1000 }), timeoutMs)
  const onAbort = () => stop({ kind: 'abort', reason: ctx.signal.reason })
  ctx.signal.addEventListener('abort', onAbort, { once: true })
  child.once('exit', () => void endGroup())

  try {
    // EPIPE when the command exits without reading all of stdin: not a failure of its own, its exit code says how it went.
    child.stdin.on('error', () => {})
    child.stdin.end(input.stdin) // no stdin: EOF at once, so `cat` and the like do not wait forever
    const exit = await exited.catch(async (error: unknown) => {
      throw await spawnFailure(error, input)
    })
    if (stopped?.kind === 'timeout') throw retryable(`command timed out after ${stopped.seconds} s`, 'timeout')
    if (stopped?.kind === 'abort') throw stopped.reason
    return outputOf(exit, stdout.read(), stderr.read(), input)
  } finally {
    clearTimeout(timer)
    ctx.signal.removeEventListener('abort', onAbort)
    await endGroup() // whatever happened above, no process of the command outlives the handler
  }
}

/** Creates the `shell` built-in: `execute_command` runs a command as API.md "Built-ins" describes. */
export function createShellComponent(options: ShellComponentOptions = {}): Component {
  const limits: Limits = {
    maxOutputBytes: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
    killGraceMs: options.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
  }
  if (!Number.isSafeInteger(limits.maxOutputBytes) || limits.maxOutputBytes < 0)
    throw new TypeError('maxOutputBytes must be a non-negative integer')
  if (!Number.isFinite(limits.killGraceMs) || limits.killGraceMs < 0) throw new TypeError('killGraceMs must be a non-negative number')
  return { execute_command: async (input: unknown, ctx: HandlerContext) => executeCommand(parseShellInput(input), ctx, limits) }
}

/** The `shell` built-in with the default limits. */
export const shellComponent: Component = createShellComponent()
