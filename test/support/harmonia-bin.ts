import { spawn } from 'node:child_process'
import { join, resolve } from 'node:path'

/** The real `harmonia` binary (node bin/harmonia.js, running dist/ as build-once.ts left it), spawned by tests. */

export const ROOT = resolve(import.meta.dirname, '../..')
export const BIN = join(ROOT, 'bin/harmonia.js')

export type BinResult = { code: number | null; stdout: string; stderr: string }

/**
 * Runs the binary against `url` (as HARMONIA_URL) with `input` on its standard input; never inherits a token, a URL or
 * a color setting from the test's environment.
 */
export function runHarmonia(
  url: string,
  args: string[],
  options: { env?: Record<string, string>; input?: string } = {},
): Promise<BinResult> {
  return new Promise((done, fail) => {
    const { HARMONIA_TOKEN: _t, HARMONIA_URL: _u, NO_COLOR: _n, ...inherited } = process.env
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...inherited, HARMONIA_URL: url, ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', fail)
    child.on('close', (code) => done({ code, stdout, stderr }))
    if (options.input !== undefined) child.stdin!.end(options.input)
  })
}
