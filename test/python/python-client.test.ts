import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

/**
 * The Python client (clients/python) against the real server: its unittest suite starts `node bin/harmonia.js serve`
 * (dist/ is built by the global setup) with the seed's components, and runs every operation, the error mapping, SSE
 * resume and the three seed examples as scripts. Python's output is printed when it fails.
 */

const ROOT = join(import.meta.dirname, '..', '..')

function runPython(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.env.PYTHON ?? 'python3', args, { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, output }))
  })
}

describe('Python client', () => {
  it('passes its unittest suite against a real server', async () => {
    const { code, output } = await runPython(['-m', 'unittest', 'discover', '-s', 'clients/python/tests', '-v'])
    if (code !== 0) console.error(output)
    expect(code, output).toBe(0)
    expect(output).toMatch(/^OK/m)
    // The suite really ran (a discovery that finds nothing also exits 0 on some Pythons).
    expect(Number(/Ran (\d+) tests?/.exec(output)?.[1] ?? 0)).toBeGreaterThanOrEqual(30)
  }, 240_000)
})
