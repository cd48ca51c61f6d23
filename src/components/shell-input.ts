import { TerminalTaskError } from '../errors.js'
import { appendPath, isPlainObject, setOwn } from '../json.js'

/** The validated input of `shell` / `execute_command`, ready for spawn. */
export type ShellInput = {
  /** What to execute: `/bin/sh` for a string command, else argv[0] (resolved on PATH). */
  file: string
  args: string[]
  cwd?: string
  /** Merged over the server's environment. */
  env?: Record<string, string>
  timeoutMs?: number
  allowFailure: boolean
  stdin?: string
}

const FIELDS = ['command', 'cwd', 'env', 'timeout', 'allow_failure', 'stdin']
/** setTimeout fires at once for delays past 2^31 - 1 ms (about 24.8 days), so longer timeouts are refused. */
const MAX_TIMEOUT_SECONDS = 2_147_483

function invalid(field: string, message: string): never {
  throw new TerminalTaskError(`shell.execute_command: ${field} ${message}`, { code: 'invalid_input' })
}

/** A string spawn accepts: the OS cannot pass a NUL byte in an argument, a path or the environment. */
function checkText(field: string, value: unknown, what: string, allowEmpty = false): string {
  if (typeof value !== 'string' || (value === '' && !allowEmpty)) invalid(field, `must be ${what}`)
  if (value.includes('\0')) invalid(field, 'must not contain a NUL byte')
  return value
}

function parseCommand(command: unknown): Pick<ShellInput, 'file' | 'args'> {
  const field = 'input.command'
  if (typeof command === 'string') {
    if (command.trim() === '') invalid(field, 'must be a non-empty string or a non-empty array of strings')
    return { file: '/bin/sh', args: ['-c', checkText(field, command, 'a non-empty string')] }
  }
  if (!Array.isArray(command) || command.length === 0) invalid(field, 'must be a non-empty string or a non-empty array of strings')
  // Arguments may be empty (`grep ''`); the executable may not.
  const argv = command.map((arg: unknown, i) =>
    i === 0
      ? checkText(appendPath(field, i), arg, 'a non-empty string (the executable)')
      : checkText(appendPath(field, i), arg, 'a string', true),
  )
  return { file: argv[0]!, args: argv.slice(1) }
}

function parseEnv(env: unknown): Record<string, string> {
  if (!isPlainObject(env)) invalid('input.env', 'must be an object of strings')
  const parsed: Record<string, string> = {}
  for (const [key, value] of Object.entries(env)) {
    const path = appendPath('input.env', key)
    if (key === '' || key.includes('=') || key.includes('\0')) invalid(path, 'is not a valid variable name')
    setOwn(parsed, key, checkText(path, value, 'a string', true)) // a key such as __proto__ is data
  }
  return parsed
}

/**
 * Checks the input of `execute_command` and throws a TerminalTaskError (`invalid_input`) naming the first bad field.
 * Optional fields may be absent or null; unknown fields are refused, so a misspelt `allow_failure` cannot pass unseen.
 */
export function parseShellInput(input: unknown): ShellInput {
  if (!isPlainObject(input)) invalid('input', 'must be an object with a command')
  for (const key of Object.keys(input)) {
    if (!FIELDS.includes(key)) invalid(appendPath('input', key), `is not a field of execute_command (${FIELDS.join(', ')})`)
  }
  const { command, cwd, env, timeout, allow_failure: allowFailure, stdin } = input
  const parsed: ShellInput = { ...parseCommand(command), allowFailure: false }
  if (cwd !== undefined && cwd !== null) parsed.cwd = checkText('input.cwd', cwd, 'a non-empty string')
  if (env !== undefined && env !== null) parsed.env = parseEnv(env)
  if (timeout !== undefined && timeout !== null) {
    if (typeof timeout !== 'number' || !(timeout > 0) || timeout > MAX_TIMEOUT_SECONDS) {
      invalid('input.timeout', `must be a positive number of seconds (at most ${MAX_TIMEOUT_SECONDS})`)
    }
    parsed.timeoutMs = timeout * 1000
  }
  if (allowFailure !== undefined && allowFailure !== null) {
    if (typeof allowFailure !== 'boolean') invalid('input.allow_failure', 'must be a boolean')
    parsed.allowFailure = allowFailure
  }
  if (stdin !== undefined && stdin !== null) {
    if (typeof stdin !== 'string') invalid('input.stdin', 'must be a string')
    parsed.stdin = stdin
  }
  return parsed
}
