import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { HandlerContext } from '../../src/components/handler.js'
import { createShellComponent, shellComponent, type ShellComponentOptions } from '../../src/components/shell.component.js'
import { registerBuiltins } from '../../src/components/builtins.js'
import { createComponentRegistry } from '../../src/components/registry.js'
import { TerminalTaskError, toTaskFailure } from '../../src/errors.js'
import { createLogger } from '../../src/logger.js'
import { until } from '../support/async.js'
import { isGone } from '../support/process.js'

const dir = mkdtempSync(join(tmpdir(), 'harmonia-shell-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
const tmpFile = () => join(dir, `f${++files}`)

function context(controller = new AbortController()): HandlerContext {
  return {
    executionId: 'e',
    workflowId: 'w',
    taskId: 't',
    attempt: 1,
    idempotencyKey: 'e:t',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    deadline: null,
    awaitCallback: () => Promise.reject(new Error('no callback in this test')),
    waitForSignal: () => Promise.reject(new Error('no signal in this test')),
    now: () => Date.now(),
    signal: controller.signal,
    logger: createLogger({ level: 'silent' }),
    sleep: async () => {},
  }
}

/** Runs `execute_command` as the task runner does; a rejection comes back as the thrown value. */
async function run(input: unknown, options?: { component?: ShellComponentOptions; controller?: AbortController }) {
  const component = options?.component ? createShellComponent(options.component) : shellComponent
  return component.execute_command!(input, context(options?.controller))
}
const failureOf = (input: unknown, options?: Parameters<typeof run>[1]) =>
  run(input, options).then(
    (output) => ({ output }),
    (error: unknown) => error,
  )

const pidIn = (file: string) => Number(readFileSync(file, 'utf8').trim())
/** A shell that starts a `sleep 60` grandchild, writes its pid to `file` and waits for it. */
const withGrandchild = (file: string, prelude = '') => `${prelude}sleep 60 & echo $! > '${file}'; wait`

describe('the built-in shell component', () => {
  it('runs a string through /bin/sh: stdout, stderr, exit code, and result without the trailing newline', async () => {
    expect(await run({ command: 'echo Hello World' })).toEqual({ exit_code: 0, stdout: 'Hello World\n', stderr: '', result: 'Hello World' })
    expect(await run({ command: 'echo out; echo err >&2; printf "a\\n\\n"' })).toEqual({
      exit_code: 0,
      stdout: 'out\na\n\n',
      stderr: 'err\n',
      result: 'out\na\n',
    })
  })

  it('runs an array without a shell: arguments with spaces and $HOME pass literally', async () => {
    const output = await run({ command: ['printf', '%s|%s|%s', 'a b  c', '$HOME', ''] })
    expect(output).toMatchObject({ exit_code: 0, stdout: 'a b  c|$HOME|' })
  })

  it('honours cwd, env merged over the server environment, and stdin', async () => {
    const cwd = realpathSync(dir)
    expect(await run({ command: 'pwd', cwd })).toMatchObject({ result: cwd })
    const env = await run({ command: ['sh', '-c', 'echo "$GREETING|$HOME"'], env: { GREETING: 'hi there' } })
    expect(env).toMatchObject({ result: `hi there|${process.env.HOME ?? ''}` })
    expect(await run({ command: 'cat', stdin: 'piped\nthrough cat' })).toMatchObject({ stdout: 'piped\nthrough cat' })
    // Without stdin the command reads EOF at once instead of waiting.
    expect(await run({ command: ['cat'] })).toMatchObject({ exit_code: 0, stdout: '' })
    // A command that exits without reading a large stdin is no failure (EPIPE is swallowed).
    expect(await run({ command: 'true', stdin: 'x'.repeat(1024 * 1024) })).toMatchObject({ exit_code: 0 })
  })

  it('fails the attempt (retryable, exit_<n>) on a non-zero exit unless allow_failure', async () => {
    const error = await failureOf({ command: 'echo partial; echo "it broke" >&2; exit 3' })
    expect(error).toBeInstanceOf(Error)
    expect(error).not.toBeInstanceOf(TerminalTaskError)
    const failure = toTaskFailure(error)
    expect(failure).toMatchObject({ code: 'exit_3', retryable: true })
    expect(failure.message).toContain('3')
    expect(failure.message).toContain('it broke')

    const allowed = await run({ command: 'echo partial; echo "it broke" >&2; exit 3', allow_failure: true })
    expect(allowed).toEqual({ exit_code: 3, stdout: 'partial\n', stderr: 'it broke\n', result: 'partial' })
    // Killed by a signal: 128 + its number, as a shell reports it.
    expect(await run({ command: 'kill -9 $$', allow_failure: true })).toMatchObject({ exit_code: 137 })
  })

  it('keeps at most the cap per stream, flags the cut, and still reads to the end (no pipe deadlock)', async () => {
    const capped = await run({ command: "head -c 200000 /dev/zero | tr '\\0' a" }, { component: { maxOutputBytes: 64 * 1024 } })
    expect(capped).toMatchObject({ exit_code: 0, stdout_truncated: true })
    expect(capped).not.toHaveProperty('stderr_truncated')
    const { stdout } = capped as { stdout: string }
    expect(Buffer.byteLength(stdout)).toBe(64 * 1024)
    expect(stdout).toMatch(/^a+$/)

    const big = (await run({ command: "head -c 1572864 /dev/zero | tr '\\0' b >&2; echo done" })) as Record<string, unknown>
    expect(big).toMatchObject({ exit_code: 0, result: 'done', stderr_truncated: true })
    expect(big).not.toHaveProperty('stdout_truncated')
    expect(Buffer.byteLength(big.stderr as string)).toBe(1024 * 1024)

    // A cap that cuts a multi-byte character keeps the whole characters before it.
    expect(await run({ command: "printf 'abcd\\342\\202\\254'" }, { component: { maxOutputBytes: 5 } })).toMatchObject({
      stdout: 'abcd',
      stdout_truncated: true,
    })
  })

  it('a timeout kills the whole process group and fails the attempt with code timeout', async () => {
    const file = tmpFile()
    const error = await failureOf({ command: withGrandchild(file), timeout: 0.5 })
    expect(toTaskFailure(error)).toMatchObject({ code: 'timeout', retryable: true })
    const grandchild = pidIn(file)
    await until(() => isGone(grandchild), `grandchild ${grandchild} to be gone`)
  })

  it('escalates to SIGKILL when the group ignores SIGTERM', async () => {
    const file = tmpFile()
    const error = await failureOf({ command: withGrandchild(file, "trap '' TERM; "), timeout: 0.3 }, { component: { killGraceMs: 200 } })
    expect(toTaskFailure(error)).toMatchObject({ code: 'timeout' })
    const grandchild = pidIn(file)
    await until(() => isGone(grandchild), `grandchild ${grandchild} to be gone`)
  })

  it('an abort of the context signal (cancel) kills the group and rejects with the reason', async () => {
    const file = tmpFile()
    const controller = new AbortController()
    const pending = failureOf({ command: withGrandchild(file) }, { controller })
    await until(() => existsSync(file) && readFileSync(file, 'utf8').endsWith('\n'), 'the pid file')
    const reason = new Error('execution canceled')
    controller.abort(reason)
    expect(await pending).toBe(reason)
    const grandchild = pidIn(file)
    await until(() => isGone(grandchild), `grandchild ${grandchild} to be gone`)
  })

  it('does not start a command when the signal has already aborted', async () => {
    const file = tmpFile()
    const controller = new AbortController()
    controller.abort(new Error('too late'))
    expect(await failureOf({ command: `touch '${file}'` }, { controller })).toMatchObject({ message: 'too late' })
    expect(existsSync(file)).toBe(false)
  })

  it('ends what the command left running in the background before it returns', async () => {
    // One background process holds stdout open, the other does not: both are gone when the handler returns.
    const output = (await run({ command: 'sleep 60 & echo $!; sleep 60 >/dev/null 2>&1 & echo $!' })) as { stdout: string }
    const pids = output.stdout.trim().split('\n').map(Number)
    expect(pids).toHaveLength(2)
    for (const pid of pids) expect(isGone(pid)).toBe(true)
  })

  it('refuses bad input with invalid_input naming the field', async () => {
    const cases: Array<[unknown, string]> = [
      [undefined, 'input'],
      [{}, 'input.command'],
      [{ command: '  ' }, 'input.command'],
      [{ command: [] }, 'input.command'],
      [{ command: ['echo', 1] }, 'input.command[1]'],
      [{ command: [''] }, 'input.command[0]'],
      [{ command: ['echo', 'a\0b'] }, 'input.command[1]'],
      [{ command: 'env', env: { A: 1 } }, 'input.env.A'],
      [{ command: 'env', env: { 'A=B': 'x' } }, 'input.env["A=B"]'],
      [{ command: 'env', env: 'A=1' }, 'input.env'],
      [{ command: 'true', timeout: -1 }, 'input.timeout'],
      [{ command: 'true', timeout: 'soon' }, 'input.timeout'],
      [{ command: 'true', timeout: 1e10 }, 'input.timeout'],
      [{ command: 'true', cwd: '' }, 'input.cwd'],
      [{ command: 'true', allow_failure: 'yes' }, 'input.allow_failure'],
      [{ command: 'true', stdin: 5 }, 'input.stdin'],
      [{ command: 'true', timout: 5 }, 'input.timout'],
    ]
    for (const [input, field] of cases) {
      const error = await failureOf(input)
      expect(error, JSON.stringify(input)).toBeInstanceOf(TerminalTaskError)
      expect(error).toMatchObject({ code: 'invalid_input' })
      expect((error as Error).message).toContain(`${field} `)
    }
    // Optional fields may be null (a template that resolved to nothing).
    expect(await run({ command: 'true', cwd: null, env: null, timeout: null, allow_failure: null, stdin: null })).toMatchObject({
      exit_code: 0,
    })
  })

  it('fails for good with spawn_failed when the command cannot start', async () => {
    const missing = await failureOf({ command: ['harmonia-no-such-executable', 'x'] })
    expect(missing).toBeInstanceOf(TerminalTaskError)
    expect(missing).toMatchObject({ code: 'spawn_failed', message: expect.stringContaining('harmonia-no-such-executable') })

    const badCwd = join(dir, 'no-such-dir')
    expect(await failureOf({ command: 'true', cwd: badCwd })).toMatchObject({
      code: 'spawn_failed',
      message: expect.stringContaining(badCwd),
    })
    const aFile = tmpFile()
    writeFileSync(aFile, '')
    expect(await failureOf({ command: ['true'], cwd: aFile })).toMatchObject({
      code: 'spawn_failed',
      message: expect.stringContaining(aFile),
    })
  })

  it('off unless enabled: the registry answers disabled, and a call fails for good with component_disabled', async () => {
    const registry = createComponentRegistry({ remote: { now: Date.now, publicUrl: () => undefined } })
    registerBuiltins(registry, { enableShell: false })
    expect(registry.check('shell', 'execute_command')).toBe('disabled')
    const error = await (async () => registry.resolve('shell', 'execute_command')({ command: 'echo hi' }, context()))().catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(TerminalTaskError)
    expect(error).toMatchObject({ code: 'component_disabled', message: expect.stringContaining('HARMONIA_ENABLE_SHELL') })
    registerBuiltins(registry, { enableShell: true })
    expect(registry.check('shell', 'execute_command')).toBe('ok')
  })
})
