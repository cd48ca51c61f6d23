import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningServer } from '../../src/http/server.js'
import { startTestServer } from '../client/server.js'
import { closeComponentServers, startComponentServer, unusedUrl, type ComponentServer } from '../support/component-server.js'
import { runHarmonia } from '../support/harmonia-bin.js'

/** `harmonia components …`: the real binary against a real server, with real node:http servers as components. */

const SECRET = 'cli-secret-never-printed'

let server: RunningServer
let healthy: ComponentServer
let sick: ComponentServer
let dir: string
beforeAll(async () => {
  server = await startTestServer()
  healthy = await startComponentServer()
  sick = await startComponentServer({ health: () => ({ status: 503, body: { status: 'down' } }) })
  dir = await mkdtemp(join(tmpdir(), 'harmonia-cli-components-'))
})
afterAll(async () => {
  await closeComponentServers()
  await server.close()
  await rm(dir, { recursive: true, force: true })
})

const harmonia = (args: string[], env: Record<string, string> = {}) => runHarmonia(server.url, args, { env })
const json = (result: { stdout: string }) => JSON.parse(result.stdout)

describe('harmonia components', () => {
  it('register (flags, a file, --replace), list, get, health, delete; the secret is never printed', async () => {
    const file = join(dir, 'component.yaml')
    await writeFile(file, `name: cli-file\nurl: ${sick.url}\ndescription: from a file\nactions: [a, b]\n`)
    const [flags, fromFile] = await Promise.all([
      harmonia(
        [
          'components',
          'register',
          '--name',
          'cli-remote',
          '--component-url',
          healthy.url,
          '--action',
          'analyze',
          '--action',
          'report',
        ].concat(['--timeout', '5', '--secret-env', 'CLI_COMPONENT_SECRET']),
        { CLI_COMPONENT_SECRET: SECRET },
      ),
      harmonia(['components', 'register', file, '--json']),
    ])
    expect(flags.code, flags.stderr).toBe(0)
    expect(flags.stdout).toBe(`registered component cli-remote at ${healthy.url} (actions: analyze, report; secret: yes)\n`)
    expect(fromFile.code, fromFile.stderr).toBe(0)
    expect(json(fromFile)).toMatchObject({
      name: 'cli-file',
      url: sick.url,
      actions: ['a', 'b'],
      description: 'from a file',
      source: 'api',
    })

    const results = await Promise.all([
      harmonia(['components', 'list']),
      harmonia(['components', 'list', '--json']),
      harmonia(['components', 'get', 'cli-remote']),
      harmonia(['components', 'get', 'cli-remote', '--json']),
      harmonia(['components', 'health', 'cli-remote']),
      harmonia(['components', 'health', 'cli-remote', '--json']),
      harmonia(['components', 'health', 'cli-file']),
      harmonia(['components', 'health', 'harmonia', '--json']),
      harmonia(['components', 'register', '--name', 'cli-remote', '--component-url', healthy.url]),
    ])
    const [list, listJson, get, getJson, health, healthJson, unhealthy, builtin, taken] = results
    for (const r of results) expect(`${r.stdout}${r.stderr}`).not.toContain(SECRET)
    expect(list.code).toBe(0)
    expect(list.stdout).toMatch(/^NAME\s+SOURCE\s+URL\s+ACTIONS\s+SECRET\s+TIMEOUT$/m)
    expect(list.stdout).toMatch(new RegExp(`^cli-remote\\s+api\\s+${healthy.url}\\s+analyze, report\\s+yes\\s+5s$`, 'm'))
    expect(list.stdout).toMatch(/^harmonia\s+builtin\s+-\s+echo, fail, noop, \S.*\s+no\s+-$/m)
    const names = json(listJson).map((c: { name: string }) => c.name)
    expect(names).toEqual(expect.arrayContaining(['harmonia', 'http', 'cli-remote', 'cli-file']))
    expect(get.stdout).toContain('component cli-remote')
    expect(get.stdout).toMatch(/^ {2}secret:\s+yes \(never shown\)$/m)
    expect(get.stdout).toMatch(/^ {2}timeout:\s+5s$/m)
    expect(json(getJson)).toMatchObject({ name: 'cli-remote', has_secret: true, timeout: 5, actions: ['analyze', 'report'] })
    expect(Object.keys(json(getJson))).not.toContain('secret')

    expect(health.code).toBe(0)
    expect(health.stdout).toMatch(/^component cli-remote healthy \(HTTP 200, \d+ms\)$/m)
    expect(healthJson.code).toBe(0)
    expect(json(healthJson)).toMatchObject({ name: 'cli-remote', healthy: true, status_code: 200 })
    expect(unhealthy.code).toBe(1)
    expect(unhealthy.stdout).toMatch(/^component cli-file not healthy \(HTTP 503, \d+ms\)$/m)
    expect(builtin.code).toBe(0)
    expect(json(builtin)).toEqual({ name: 'harmonia', healthy: true })
    expect(taken.code).toBe(3)
    expect(taken.stderr).toMatch(/^error: 409 /m)

    const replaced = await harmonia([
      'components',
      'register',
      '--name',
      'cli-remote',
      '--component-url',
      healthy.url,
      '--replace',
      '--json',
    ])
    expect(replaced.code, replaced.stderr).toBe(0)
    expect(json(replaced)).toMatchObject({ name: 'cli-remote', has_secret: false, actions: null, timeout: null })

    const deleted = await harmonia(['components', 'delete', 'cli-remote'])
    expect(deleted.code).toBe(0)
    expect(deleted.stdout).toBe('deleted component cli-remote\n')
    const [gone, builtinDelete] = await Promise.all([
      harmonia(['components', 'get', 'cli-remote']),
      harmonia(['components', 'delete', 'harmonia']),
    ])
    expect(gone.code).toBe(3)
    expect(gone.stderr).toMatch(/^error: 404 /m)
    expect(builtinDelete.code).toBe(3)
    expect(builtinDelete.stderr).toMatch(/^error: 409 .*cannot be deleted/m)
  })

  it('health: exit 1 for a component that cannot be reached (also with --json), 3 for an unknown one', async () => {
    const down = await unusedUrl()
    const registered = await harmonia(['components', 'register', '--name', 'cli-down', '--component-url', down])
    expect(registered.code, registered.stderr).toBe(0)
    expect(registered.stdout).toContain('(actions: any; secret: no)')
    const [text, asJson, unknown, offline] = await Promise.all([
      harmonia(['components', 'health', 'cli-down']),
      harmonia(['components', 'health', 'cli-down', '--json']),
      harmonia(['components', 'health', 'no-such-component']),
      harmonia(['components', 'health', 'cli-down', '--url', 'http://127.0.0.1:1']),
    ])
    expect(text.code).toBe(1)
    expect(text.stdout).toMatch(/^component cli-down not healthy \(\d+ms, .+\)$/m)
    expect(asJson.code).toBe(1)
    expect(json(asJson)).toMatchObject({ name: 'cli-down', healthy: false, error: expect.any(String) })
    expect(unknown.code).toBe(3)
    expect(unknown.stderr).toMatch(/^error: 404 /m)
    expect(offline.code).toBe(3)
    expect(offline.stderr).toContain('cannot reach Harmonia at http://127.0.0.1:1')
  })

  it('usage errors exit 2 and name the option', async () => {
    const results = await Promise.all([
      harmonia(['components', 'register', '--name', 'x', '--component-url', healthy.url, '--secret-env', 'CLI_UNSET_VARIABLE']),
      harmonia(['components', 'register', '--component-url', healthy.url]),
      harmonia(['components', 'register', '--name', 'x']),
      harmonia(['components', 'register', '--name', 'x', '--component-url', healthy.url, '--timeout', 'soon']),
      harmonia(['components', 'register', '--name', 'x', '--component-url', healthy.url, '--timeout', '-1']),
      harmonia(['components', 'health']),
      harmonia(['components', 'get', 'a', 'b']),
      harmonia(['components', 'list', '--verbose']),
    ])
    const [unset, noName, noUrl, badTimeout, negative, noArg, extra, unknown] = results
    for (const r of results) expect(r.code, r.stderr).toBe(2)
    expect(unset.stderr).toContain('--secret-env CLI_UNSET_VARIABLE: the environment variable CLI_UNSET_VARIABLE is not set')
    expect(noName.stderr).toContain('--name <name>')
    expect(noUrl.stderr).toContain('--component-url <url>')
    expect(badTimeout.stderr).toContain('--timeout must be a number greater than 0, got "soon"')
    expect(negative.stderr).toContain('--timeout')
    expect(noArg.stderr).toContain('usage: harmonia components health <name>')
    expect(extra.stderr).toContain('unexpected argument "b"')
    expect(unknown.stderr).toContain("'--verbose'")
  })
})
