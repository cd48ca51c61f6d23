import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import {
  getHarmoniaClient,
  getHarmoniaStateClient,
  HarmoniaApiError,
  DEFAULT_URL,
  type HarmoniaClient,
  type HarmoniaStateClient,
} from '../client/index.js'
import { GLOBAL_OPTIONS, type Command, type Options, type Values } from './command.js'
import { checkpointCommands } from './commands/checkpoints.js'
import { completionCommand } from './commands/completion.js'
import { componentCommands } from './commands/components.js'
import { executionCommands } from './commands/executions.js'
import { mcpCommand } from './commands/mcp.js'
import { runCommand } from './commands/run.js'
import { secretsRotateCommand } from './commands/secrets.js'
import { serveCommand } from './commands/serve.js'
import { stateCommands } from './commands/state.js'
import { templateCommands } from './commands/templates.js'
import { workflowCommands } from './commands/workflows.js'
import { createStyle } from './format.js'
import { EXIT, UsageError, type Io } from './io.js'

/** Every command, in the order `harmonia --help` lists them (one entry a line). */
export const COMMANDS: Command[] = [
  serveCommand,
  ...workflowCommands,
  runCommand,
  ...executionCommands,
  ...templateCommands,
  ...checkpointCommands,
  ...stateCommands,
  ...componentCommands,
  secretsRotateCommand,
  mcpCommand,
  completionCommand(() => COMMANDS),
]

const ALL_OPTIONS: Options = Object.assign({}, GLOBAL_OPTIONS, ...COMMANDS.map((c) => c.options ?? {})) as Options

const usageOf = (c: Command) => `harmonia ${c.name}${c.args ? ` ${c.args}` : ''}${c.options ? ' [options]' : ''}`

function optionLines(options: Options): string[] {
  const rows = Object.entries(options).map(([name, o]) => [
    `${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : ''}`,
    o.help,
  ])
  const width = Math.max(...rows.map(([flag]) => flag!.length))
  return rows.map(([flag, help]) => `  ${flag!.padEnd(width)}  ${help}`)
}

/** `harmonia --help`: every command. */
export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => `${c.name} ${c.args}`.length))
  return [
    'harmonia — drive a Harmonia workflow server from the command line',
    '',
    'Usage: harmonia <command> [arguments] [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${`${c.name} ${c.args}`.padEnd(width)}  ${c.summary}`),
    '',
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'Exit codes: 0 success (watch: the execution completed), 1 the execution failed or was canceled',
    '            (components health: not healthy), 2 usage error, 3 API or network error.',
    '',
    "Run 'harmonia <command> --help' for a command's options.",
  ].join('\n')
}

/** `harmonia <command> --help`. */
export function commandHelp(c: Command): string {
  return [
    `Usage: ${usageOf(c)}`,
    '',
    `${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.`,
    ...(c.details ? ['', c.details] : []),
    ...(c.options ? ['', 'Options:', ...optionLines(c.options)] : []),
    '',
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
  ].join('\n')
}

/** The help of a group of commands (`harmonia workflows`). */
function groupHelp(group: string): string {
  const commands = COMMANDS.filter((c) => c.name.startsWith(`${group} `))
  const width = Math.max(...commands.map((c) => `${c.name} ${c.args}`.length))
  return [
    `Usage: harmonia ${group} <command> [arguments] [options]`,
    '',
    'Commands:',
    ...commands.map((c) => `  ${`${c.name} ${c.args}`.padEnd(width)}  ${c.summary}`),
    '',
    `Run 'harmonia ${group} <command> --help' for a command's options.`,
  ].join('\n')
}

const isGroup = (word: string) => COMMANDS.some((c) => c.name.startsWith(`${word} `))

/** The command named by the leading positional words (`executions get …` → `executions get`). */
function findCommand(words: string[]): Command | undefined {
  return COMMANDS.find((c) => {
    const parts = c.name.split(' ')
    return parts.every((part, i) => words[i] === part)
  })
}

/** Errors fetch raises when the server cannot be reached (undici wraps the socket error in `cause`). */
function networkCause(error: unknown): string | undefined {
  if (!(error instanceof TypeError) || error.message !== 'fetch failed') return undefined
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? 'fetch failed'
}

function printApiError(io: Io, error: HarmoniaApiError): void {
  io.stderr.write(`error: ${error.status} ${error.title}${error.detail ? `: ${error.detail}` : ''}\n`)
  for (const e of error.errors) io.stderr.write(`  ${e.path || '(body)'}: ${e.message}\n`)
}

/**
 * Runs the CLI with `argv` (without node and the script) and resolves with the exit code. Nothing here calls
 * process.exit, so tests can run it in-process.
 */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  let command: Command | undefined
  let url = io.env.HARMONIA_URL ?? DEFAULT_URL
  try {
    // First pass, lenient: find the command words (option values are not mistaken for them: every option is known).
    const loose = parseArgs({ args: [...argv], options: ALL_OPTIONS, strict: false, allowPositionals: true })
    const words = loose.positionals
    if (words[0] === 'help') {
      const rest = words.slice(1)
      const c = findCommand(rest)
      io.stdout.write(`${c ? commandHelp(c) : rest[0] && isGroup(rest[0]) ? groupHelp(rest[0]) : mainHelp()}\n`)
      return EXIT.ok
    }
    if (words.length === 0) {
      if (argv.length === 1 && argv[0] === '--version') return printVersion(io)
      if (loose.values.help === true) {
        io.stdout.write(`${mainHelp()}\n`)
        return EXIT.ok
      }
      io.stderr.write(`${mainHelp()}\n`)
      return EXIT.usage
    }
    command = findCommand(words)
    if (!command) {
      if (isGroup(words[0]!) && (words.length === 1 || loose.values.help === true)) {
        const out = loose.values.help === true ? io.stdout : io.stderr
        out.write(`${groupHelp(words[0]!)}\n`)
        return loose.values.help === true ? EXIT.ok : EXIT.usage
      }
      throw new UsageError(`unknown command "${words.slice(0, isGroup(words[0]!) ? 2 : 1).join(' ')}"; run 'harmonia --help'`)
    }

    // Second pass, strict: only this command's options.
    const options = { ...GLOBAL_OPTIONS, ...command.options }
    let parsed: { values: Values; positionals: string[] }
    try {
      parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true }) as typeof parsed
    } catch (error) {
      throw new UsageError((error as Error).message, command.name)
    }
    if (parsed.values.help === true) {
      io.stdout.write(`${commandHelp(command)}\n`)
      return EXIT.ok
    }
    const args = parsed.positionals.slice(command.name.split(' ').length)
    const [min, max] = command.arity
    if (args.length < min) throw new UsageError(`missing ${command.args}`, command.name)
    if (args.length > max) throw new UsageError(`unexpected argument "${args[max]}"`, command.name)

    if (typeof parsed.values.url === 'string') url = parsed.values.url
    const token = (typeof parsed.values.token === 'string' ? parsed.values.token : undefined) ?? (io.env.HARMONIA_TOKEN || undefined)
    let client: HarmoniaClient | undefined
    let stateClient: HarmoniaStateClient | undefined
    const clientOptions = { url, ...(token ? { token } : {}) }
    return await command.run({
      io,
      args,
      values: parsed.values,
      url,
      token,
      client: () => (client ??= getHarmoniaClient(clientOptions)),
      stateClient: () => (stateClient ??= getHarmoniaStateClient(clientOptions)),
      style: createStyle(io.stdout.isTTY === true && !io.env.NO_COLOR),
    })
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`error: ${error.message}\n`)
      const c = error.command ? COMMANDS.find((x) => x.name === error.command) : command
      if (c) io.stderr.write(`usage: ${usageOf(c)}\n`)
      return EXIT.usage
    }
    if (error instanceof HarmoniaApiError) {
      printApiError(io, error)
      return EXIT.api
    }
    const cause = networkCause(error)
    if (cause !== undefined) {
      io.stderr.write(`error: cannot reach Harmonia at ${url}: ${cause}\n`)
      return EXIT.api
    }
    io.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    return EXIT.api
  }
}

function printVersion(io: Io): number {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  io.stdout.write(`harmonia ${pkg.version}\n`)
  return EXIT.ok
}
