// `npm run build` (and `npm start`, `npm install`): compiles src/ to dist/ with tsc when dist/ is missing or older than
// a source file, so a fresh clone's `npm install && npm start` serves compiled JavaScript without a manual step, and a
// start after editing the sources never serves stale code. `--force` rebuilds whatever the timestamps say.
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, readdirSync, statSync, writeFileSync, rmSync } from 'node:fs'
import { join, relative } from 'node:path'
import process from 'node:process'

const root = join(import.meta.dirname, '..')
const stamp = join(root, 'dist', '.built')

/** The newest mtime under `dir`, folders included (a deleted or renamed source changes its folder's). */
function newest(dir) {
  let latest = statSync(dir).mtimeMs
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return latest
}

function mjsModules(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.mjs'))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
}

const sources = Math.max(newest(join(root, 'src')), ...['tsconfig.json', 'tsconfig.build.json', 'package.json'].map((f) => statSync(join(root, f)).mtimeMs))
const fresh = !process.argv.includes('--force') && existsSync(stamp) && statSync(stamp).mtimeMs >= sources
if (!fresh) {
  // A removed source must not survive as a stale module in dist/.
  rmSync(join(root, 'dist'), { recursive: true, force: true })
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root })
  // Plain JavaScript modules that run as their own process (src/db/pglite-initdb.mjs): tsc does not copy them.
  for (const file of mjsModules(join(root, 'src'))) cpSync(file, join(root, 'dist', relative(join(root, 'src'), file)))
  // The web UI's page and browser modules are served as they are (src/http/ui.ts).
  cpSync(join(root, 'src', 'ui'), join(root, 'dist', 'ui'), { recursive: true })
  writeFileSync(stamp, `${new Date().toISOString()}\n`)
}
