import { execFile, execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { COMMANDS } from '../../src/cli/cli.js'
import { GLOBAL_OPTIONS } from '../../src/cli/command.js'
import { runHarmonia } from '../support/harmonia-bin.js'

/** `harmonia completion bash|zsh`: scripts that parse, list every command, and complete in a real bash. */

const run = promisify(execFile)
const hasShell = (shell: string) => {
  try {
    execFileSync(shell, ['-c', 'exit 0'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

// Nothing listens there: `completion` never calls the server.
const harmonia = (args: string[]) => runHarmonia('http://127.0.0.1:1', args)

let dir: string
let bashScript: string
let zshScript: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'harmonia-completion-'))
  const [bash, zsh] = await Promise.all([harmonia(['completion', 'bash']), harmonia(['completion', 'zsh'])])
  expect(bash.code, bash.stderr).toBe(0)
  expect(zsh.code, zsh.stderr).toBe(0)
  bashScript = join(dir, 'harmonia.bash')
  zshScript = join(dir, '_harmonia')
  await Promise.all([writeFile(bashScript, bash.stdout), writeFile(zshScript, zsh.stdout)])
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** What the bash completion offers for a command line (the last word is the one being completed). */
async function complete(...words: string[]): Promise<string[]> {
  const script = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _harmonia; printf '%s\\n' "\${COMPREPLY[@]}"`
  const { stdout } = await run('bash', ['-c', script, 'complete', bashScript, ...words], { cwd: dir })
  return stdout.split('\n').filter(Boolean)
}

describe('harmonia completion', () => {
  it('the bash script parses (bash -n) and names every command, subcommand and option', async () => {
    await run('bash', ['-n', bashScript])
    const text = await readFile(bashScript, 'utf8')
    expect(text).toContain('complete -F _harmonia harmonia')
    for (const c of COMMANDS) {
      expect(text).toContain(`'${c.name}')`)
      for (const option of Object.keys(c.options ?? {})) expect(text).toContain(`--${option}`)
    }
  })

  it('sourced in bash, completes commands, subcommands, options and arguments', async () => {
    const [temp, groups, sub, options, afterValue, shells, files, valueOf] = await Promise.all([
      complete('harmonia', 'temp'),
      complete('harmonia', ''),
      complete('harmonia', 'components', ''),
      complete('harmonia', 'components', 'register', '--s'),
      complete('harmonia', '--url', 'http://x', 'check'),
      complete('harmonia', 'completion', ''),
      complete('harmonia', 'templates', 'create', 'harm'),
      complete('harmonia', 'executions', 'list', '--status', ''),
    ])
    expect(temp).toEqual(['templates'])
    expect(groups).toEqual(
      expect.arrayContaining([
        'serve',
        'run',
        'watch',
        'workflows',
        'executions',
        'templates',
        'checkpoints',
        'state',
        'components',
        'completion',
        'help',
      ]),
    )
    expect(sub).toEqual(['list', 'get', 'register', 'delete', 'health'])
    expect(options).toEqual(['--secret-env'])
    expect(afterValue).toEqual(['checkpoints']) // an option's value is not taken for a command word
    expect(shells).toEqual(['bash', 'zsh'])
    expect(files).toEqual(['harmonia.bash']) // a file argument: the files of the working directory
    expect(valueOf).toEqual([])
  })

  it.skipIf(!hasShell('zsh'))('the zsh script parses (zsh -n) and, its completion builtins stubbed, offers the right words', async () => {
    await run('zsh', ['-n', zshScript])
    // Outside a completion widget compadd and _describe do not exist: stand-ins print what they are given (zsh
    // itself would then keep the words matching the prefix).
    const harness = [
      'compdef() { }',
      'compadd() { shift ${@[(i)--]}; print -l -- "$@" }',
      '_describe() { local -a entries; entries=("${(@P)4}"); print -l -- "${entries[@]%%:*}" }',
      "_files() { print -- '(files)' }",
      'source "$1"; shift; words=("$@"); CURRENT=$#; _harmonia',
    ].join('\n')
    const offered = async (...words: string[]) =>
      (await run('zsh', ['-f', '-c', harness, 'zsh', zshScript, ...words])).stdout.split('\n').filter(Boolean)
    const [top, sub, options, afterValue, files] = await Promise.all([
      offered('harmonia', 'temp'),
      offered('harmonia', 'components', ''),
      offered('harmonia', 'components', 'register', '--s'),
      offered('harmonia', '--url', 'http://x', 'components', ''),
      offered('harmonia', 'run', '--input-file', ''),
    ])
    expect(top).toEqual(expect.arrayContaining(['templates', 'checkpoints', 'state', 'components', 'completion', 'help']))
    expect(sub).toEqual(['list', 'get', 'register', 'delete', 'health'])
    expect(options).toContain('--secret-env')
    expect(afterValue).toEqual(sub)
    expect(files).toEqual(['(files)'])
  })

  it('the zsh script is a #compdef function that names every command', async () => {
    const text = await readFile(zshScript, 'utf8')
    expect(text.split('\n')[0]).toBe('#compdef harmonia')
    expect(text).toContain('compdef _harmonia harmonia')
    for (const c of COMMANDS) expect(text).toContain(`'${c.name}')`)
    expect(text).toContain("'templates:create, list, get, instantiate'")
  })

  it('an unknown or missing shell is a usage error (exit 2)', async () => {
    const [fish, none] = await Promise.all([harmonia(['completion', 'fish']), harmonia(['completion'])])
    expect(fish.code).toBe(2)
    expect(fish.stderr).toContain('the shell must be bash or zsh, got "fish"')
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('usage: harmonia completion <bash|zsh>')
  })

  it('no command option shadows a global one (--url, --token, --help keep their meaning everywhere)', () => {
    for (const c of COMMANDS)
      for (const option of Object.keys(c.options ?? {})) expect(GLOBAL_OPTIONS, `${c.name} --${option}`).not.toHaveProperty(option)
  })
})
