import { execFileSync } from 'node:child_process'
import { join } from 'node:path'

/**
 * Vitest global setup: dist/ is brought up to date once before any test, since tests that spawn the real binary
 * (bin/harmonia.js) run the compiled CLI; without this, parallel spawns of a stale checkout would each rebuild it.
 */
export default function setup(): void {
  execFileSync(process.execPath, [join(import.meta.dirname, '..', '..', 'scripts', 'build.mjs')], { stdio: 'inherit' })
}
