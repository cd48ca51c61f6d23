/** Where the CLI writes and what it reads from its environment: the process's, or a test's. */
export type Io = {
  stdout: { write(text: string): unknown; isTTY?: boolean; columns?: number }
  stderr: { write(text: string): unknown }
  /** What `-` reads (`state set <id> -`). */
  stdin?: AsyncIterable<string | Uint8Array>
  env: Record<string, string | undefined>
  cwd: string
}

/** Exit codes (also in `harmonia --help`). */
export const EXIT = {
  /** The command succeeded; for `watch` and `run --watch`, the execution completed. */
  ok: 0,
  /** The watched execution failed or was canceled. */
  executionFailed: 1,
  /** `components health`: the component answered, and is not healthy. */
  unhealthy: 1,
  /** Bad arguments, options, or input files. */
  usage: 2,
  /** The server answered with an error, or could not be reached. */
  api: 3,
} as const

/** A mistake in how the command was called (or in a file it was given): exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
  constructor(
    message: string,
    /** The command whose usage line to print with the message. */
    readonly command?: string,
  ) {
    super(message)
  }
}

/** The process's own Io. */
export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() }
}
