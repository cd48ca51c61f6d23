import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningServer } from '../../src/http/server.js'
import { startTestServer } from '../client/server.js'
import { BIN, ROOT, runHarmonia } from '../support/harmonia-bin.js'

/** The real `harmonia` binary (node bin/harmonia.js) against a server started by the test. */

let server: RunningServer
let dir: string

const harmonia = (args: string[], env: Record<string, string> = {}) => runHarmonia(server.url, args, { env })

beforeAll(async () => {
  server = await startTestServer()
  dir = await mkdtemp(join(tmpdir(), 'harmonia-cli-'))
})
afterAll(async () => {
  await server.close()
  await rm(dir, { recursive: true, force: true })
})

describe('harmonia CLI', () => {
  it('run examples/hello.yaml --watch exits 0 and prints the final statuses', async () => {
    const result = await harmonia(['run', 'examples/hello.yaml', '--watch', '--input', 'name=Ada'])
    expect(result.stderr).toMatch(/created workflow [0-9a-f-]{36} \(hello v1\)|updated workflow/)
    expect(result.code).toBe(0)
    // Piped: one line per event, then the final table and the outcome.
    expect(result.stdout).toMatch(/#1\s+workflow_started/)
    expect(result.stdout).toMatch(/task_completed\s+summary/)
    for (const task of ['greet', 'measure', 'shout', 'pause', 'summary']) {
      expect(result.stdout).toMatch(new RegExp(`^  ${task}\\s+completed\\s+1\\s+\\S+`, 'm'))
    }
    expect(result.stdout).toMatch(/^execution [0-9a-f-]{36} completed in /m)
    expect(result.stdout).toContain('"greeting": "Hello, Ada!"')
    expect(result.stdout).toContain('"letters": 3')
    expect(result.stdout).not.toContain('\x1b[') // no ANSI when piped
  })

  it('run examples/retry.yaml --watch completes after a retry (exit 0)', async () => {
    const result = await harmonia(['run', 'examples/retry.yaml', '--watch'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/task_retrying\s+flaky/)
    expect(result.stdout).toMatch(/^ {2}flaky\s+completed\s+2\s/m)
  })

  it('run examples/failing.yaml --watch exits 1 with the failure', async () => {
    const result = await harmonia(['run', 'examples/failing.yaml', '--watch'])
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/^ {2}broken\s+failed\s+1\s+\S+\s+this task always fails/m)
    expect(result.stdout).toMatch(/^ {2}never\s+skipped/m)
    expect(result.stdout).toMatch(/^ {2}independent\s+completed/m)
    expect(result.stdout).toMatch(/^execution [0-9a-f-]{36} failed/m)
  })

  it('workflows apply twice: created, then updated to version 2', async () => {
    const file = join(dir, 'applied.yaml')
    await writeFile(file, 'name: cli-applied\ntasks:\n  - { id: a, component: harmonia, action: noop }\n')
    const first = await harmonia(['workflows', 'apply', file])
    expect(first.code).toBe(0)
    const id = /created workflow ([0-9a-f-]{36}) \(cli-applied v1\)/.exec(first.stdout)?.[1]
    expect(id).toBeDefined()

    await writeFile(file, 'name: cli-applied\ndescription: second\ntasks:\n  - { id: a, component: harmonia, action: echo }\n')
    const second = await harmonia(['workflows', 'apply', file, '--json'])
    expect(second.code).toBe(0)
    expect(JSON.parse(second.stdout)).toMatchObject({ workflow_id: id, name: 'cli-applied', version: 2, description: 'second' })

    const got = await harmonia(['workflows', 'get', id!, '--json'])
    expect(JSON.parse(got.stdout)).toMatchObject({ workflow_id: id, version: 2 })
    const list = await harmonia(['workflows', 'list', '--filter', 'cli-applied'])
    expect(list.stdout).toMatch(new RegExp(`^${id}\\s+cli-applied\\s+2\\s+1\\s`, 'm'))
  })

  it('run (no --watch) prints the execution id; executions get shows it, as text and as --json', async () => {
    const run = await harmonia(['run', 'examples/hello.yaml', '--input', 'repeat=1'])
    expect(run.code).toBe(0)
    const id = run.stdout.trim()
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    const watched = await harmonia(['watch', id])
    expect(watched.code).toBe(0)
    expect(watched.stdout).toMatch(/^ {2}shout\s+skipped/m) // when: repeat > 1 is false

    const text = await harmonia(['executions', 'get', id])
    expect(text.code).toBe(0)
    expect(text.stdout).toContain(`execution ${id}`)
    expect(text.stdout).toMatch(/status:\s+completed/)
    expect(text.stdout).toMatch(/^ {2}greet\s+completed\s+1/m)

    const json = await harmonia(['executions', 'get', id, '--json'])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({ execution_id: id, status: 'completed', input: { name: 'world', repeat: 1 } })

    const history = await harmonia(['executions', 'history', id])
    expect(history.code).toBe(0)
    expect(history.stdout).toMatch(/workflow_completed/)
    const list = await harmonia(['executions', 'list', '--status', 'completed', '--json'])
    expect(JSON.parse(list.stdout).items.map((e: { execution_id: string }) => e.execution_id)).toContain(id)
  })

  it('usage errors exit 2', async () => {
    const missing = await harmonia(['executions', 'get'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('usage: harmonia executions get <execution_id>')
    expect((await harmonia(['frobnicate'])).code).toBe(2)
    expect((await harmonia(['workflows', 'list', '--bogus'])).code).toBe(2)
    expect((await harmonia(['run', 'examples/hello.yaml', '--input', 'no-equals-sign'])).code).toBe(2)
    expect((await harmonia(['run', 'no/such/file.yaml'])).code).toBe(2)
    expect((await harmonia([])).code).toBe(2)
  })

  it('API errors exit 3 with the problem detail and field errors on stderr', async () => {
    const notFound = await harmonia(['executions', 'get', '0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee'])
    expect(notFound.code).toBe(3)
    expect(notFound.stderr).toMatch(/404 Not Found: .*0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee/)

    const file = join(dir, 'invalid.json')
    await writeFile(
      file,
      JSON.stringify({ name: 'invalid', tasks: [{ id: 'a', component: 'harmonia', action: 'noop', depends_on: ['zzz'] }] }),
    )
    const invalid = await harmonia(['workflows', 'apply', file])
    expect(invalid.code).toBe(3)
    expect(invalid.stderr).toMatch(/^error: 422 /m)
    expect(invalid.stderr).toMatch(/^ {2}tasks.*depends_on.*: /m)

    const offline = await harmonia(['workflows', 'list', '--url', 'http://127.0.0.1:1'])
    expect(offline.code).toBe(3)
    expect(offline.stderr).toContain('cannot reach Harmonia at http://127.0.0.1:1')
  })

  it('serve starts a server that answers, and exits 0 on SIGTERM', async () => {
    const { HARMONIA_TOKEN: _t, HARMONIA_API_TOKENS: _a, ...inherited } = process.env
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1'], {
      cwd: ROOT,
      env: { ...inherited, DATABASE_URL: 'memory:store' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const exited = new Promise<number | null>((done) => child.on('close', done))
    const url = await new Promise<string>((done, fail) => {
      let out = ''
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        const match = /listening on (http:\/\/\S+)/.exec(out)
        if (match) done(match[1]!)
      })
      child.on('close', () => fail(new Error(`serve exited before listening: ${out}`)))
    })
    try {
      const result = await harmonia(['run', 'examples/retry.yaml', '--watch', '--url', url])
      expect(result.code).toBe(0)
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
  })

  it('--help and per-command help exit 0', async () => {
    const help = await harmonia(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('workflows apply')
    expect(help.stdout).toContain('Exit codes')
    const runHelp = await harmonia(['run', '--help'])
    expect(runHelp.code).toBe(0)
    expect(runHelp.stdout).toContain('--input-file')
  })
})
