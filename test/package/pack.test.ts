import { execFile, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { until } from '../support/async.js'

/**
 * The package as a user gets it (issue 15): `npm pack`, installed into an empty project from the local npm cache, then
 * its binary, its engine entry from plain JavaScript, and its client entry type-checked and loaded alone.
 */

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..', '..')
let project: string

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'harmonia-pack-'))
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', project], { cwd: ROOT, maxBuffer: 1 << 24 })
  const tarball = join(project, stdout.trim().split('\n').pop()!)
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'uses-harmonia', private: true, type: 'module' }))
  await run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: project,
    maxBuffer: 1 << 24,
  })
}, 300_000)
afterAll(async () => {
  if (project) await rm(project, { recursive: true, force: true })
})

const toolNames = (answer: unknown): string[] =>
  ((answer as { result?: { tools?: { name: string }[] } }).result?.tools ?? []).map((t) => t.name)

/** One JSON-RPC request to `npx harmonia mcp` over stdio, and its answer (the first line it writes). */
async function overStdio(url: string, request: string): Promise<unknown> {
  const child = spawn('npx', ['harmonia', 'mcp', '--url', url], { cwd: project, stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.stdin.write(`${request}\n`)
  try {
    await until(() => out.includes('\n'), 'harmonia mcp answers', 30_000)
  } finally {
    child.stdin.end()
    await exited
  }
  return JSON.parse(out.split('\n')[0]!)
}

describe('the packed package', () => {
  it('ships compiled JavaScript, declarations, migrations and the UI — not the sources or the tests', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json'], { cwd: ROOT, maxBuffer: 1 << 24 })
    const files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path)
    for (const file of [
      'dist/index.js',
      'dist/index.d.ts',
      'dist/client/index.js',
      'dist/client/index.d.ts',
      'dist/cli/main.js',
      'dist/ui/index.html',
      'bin/harmonia.js',
      'README.md',
      'LICENSE',
    ])
      expect(files, file).toContain(file)
    expect(files.some((f) => f.startsWith('drizzle/') && f.endsWith('.sql'))).toBe(true)
    expect(
      files.filter(
        (f) => f.startsWith('src/') || f.startsWith('test/') || f.startsWith('bench/') || (f.endsWith('.ts') && !f.endsWith('.d.ts')),
      ),
    ).toEqual([])
  })

  it('`npx harmonia serve` answers /health and /mcp, and `npx harmonia mcp` lists the tools over stdio', async () => {
    const child = spawn('npx', ['harmonia', 'serve', '--port', '0', '--host', '127.0.0.1'], {
      cwd: project,
      env: {
        ...process.env,
        DATABASE_URL: '',
        HARMONIA_DATA_DIR: join(project, '.harmonia'),
        HARMONIA_LOG_FORMAT: 'json',
        HARMONIA_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    try {
      await until(() => /http:\/\/127\.0\.0\.1:\d+/.test(output), 'the server says where it listens', 60_000)
      const url = /http:\/\/127\.0\.0\.1:\d+/.exec(output)![0]
      const health = (await (await fetch(`${url}/health`)).json()) as Record<string, unknown>
      expect(health).toMatchObject({ status: 'healthy', component: 'harmonia', database: 'pglite' })
      // Its MCP endpoint, and `npx harmonia mcp` (stdio) calling it: the SDK ships with the package.
      const listTools = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' })
      const overHttp = await fetch(`${url}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: listTools,
      })
      expect(toolNames(await overHttp.json())).toContain('execute_workflow')
      expect(toolNames(await overStdio(url, listTools))).toContain('execute_workflow')
    } finally {
      child.kill('SIGTERM')
      await new Promise((resolve) => child.once('exit', resolve))
    }
  }, 90_000)

  it('a plain .mjs file imports createHarmonia from "harmonia" and runs the seed example in-process', async () => {
    await writeFile(
      join(project, 'seed.mjs'),
      `import { createHarmonia } from 'harmonia'
const harmonia = await createHarmonia({
  database: 'memory://',
  components: {
    ergon: { execute_command: ({ command }) => ({ result: command.replace(/^echo /, ''), exit_code: 0 }) },
    prometheus: { analyze_results: ({ data }) => ({ words: data.split(/\\s+/).length }) },
  },
})
const workflow = await harmonia.createWorkflow({
  name: 'example_workflow',
  tasks: [
    { id: 'task1', component: 'ergon', action: 'execute_command', input: { command: 'echo Hello World' } },
    { id: 'task2', component: 'prometheus', action: 'analyze_results', input: { data: '\${tasks.task1.output.result}' }, depends_on: ['task1'] },
  ],
  output: { analysis: '\${tasks.task2.output}' },
})
const { execution_id } = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
const done = await harmonia.waitForExecution(execution_id)
console.log(JSON.stringify({ status: done.status, output: done.output }))
await harmonia.close()
`,
    )
    const { stdout } = await run(process.execPath, ['seed.mjs'], { cwd: project, env: { ...process.env, HARMONIA_LOG_LEVEL: 'silent' } })
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ status: 'completed', output: { analysis: { words: 2 } } })
  }, 60_000)

  it('a .ts file importing "harmonia/client" type-checks with tsc --noEmit', async () => {
    await writeFile(
      join(project, 'client.ts'),
      `import { getHarmoniaClient, HarmoniaApiError, type Execution } from 'harmonia/client'
const client = await getHarmoniaClient({ url: 'http://127.0.0.1:1' })
const status: Execution['status'] | undefined = undefined
export { client, status, HarmoniaApiError }
`,
    )
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, types: [] },
        files: ['client.ts'],
      }),
    )
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    await expect(run(process.execPath, [tsc, '-p', project], { cwd: project })).resolves.toBeDefined()
    // And a wrong use of its types is caught: the declarations are really there.
    await writeFile(
      join(project, 'client.ts'),
      `import { getHarmoniaClient } from 'harmonia/client'\nconst n: number = getHarmoniaClient\nexport { n }\n`,
    )
    await expect(run(process.execPath, [tsc, '-p', project], { cwd: project })).rejects.toMatchObject({
      stdout: expect.stringContaining('client.ts'),
    })
  }, 60_000)

  it('importing "harmonia/client" alone loads neither PGlite nor postgres nor drizzle', async () => {
    // Hide the server's dependencies from this project: the client must not need them.
    const hidden = join(project, 'node_modules', '.hidden')
    await run('mkdir', ['-p', hidden])
    for (const dep of ['@electric-sql', 'postgres', 'drizzle-orm'])
      await run('mv', [join(project, 'node_modules', dep), join(hidden, dep.replace('/', '_'))])
    try {
      await writeFile(
        join(project, 'client-only.mjs'),
        `import { getHarmoniaClient } from 'harmonia/client'\nconst c = await getHarmoniaClient({ url: 'http://127.0.0.1:1' })\nconsole.log(typeof c.listWorkflows)\n`,
      )
      const { stdout } = await run(process.execPath, ['client-only.mjs'], { cwd: project })
      expect(stdout.trim()).toBe('function')
      // The hiding is real: an engine on PGlite cannot start without them.
      await writeFile(
        join(project, 'engine.mjs'),
        `const { createHarmonia } = await import('harmonia')\nawait createHarmonia({ database: 'memory://' })\n`,
      )
      await expect(
        run(process.execPath, ['engine.mjs'], { cwd: project, env: { ...process.env, HARMONIA_LOG_LEVEL: 'silent' } }),
      ).rejects.toMatchObject({
        stderr: expect.stringMatching(/Cannot find (package|module)/),
      })
    } finally {
      for (const dep of ['@electric-sql', 'postgres', 'drizzle-orm'])
        await run('mv', [join(hidden, dep.replace('/', '_')), join(project, 'node_modules', dep)])
    }
  })
})
