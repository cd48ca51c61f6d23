import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, extname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Hono } from 'hono'
import { EVENT_TYPES } from '../model/events.js'
import { EXECUTION_STATUSES, TERMINAL_EXECUTION_STATUSES } from '../model/status.js'

/**
 * The web UI (API.md "Observability and UI"), served by this process: the page shell and its modules from src/ui
 * (dist/ui once built), and the few libraries it runs on straight from node_modules — nothing from another host,
 * nothing to build. The shell and the code carry no data: every datum comes from the API with the user's token.
 */

const UI_DIR = fileURLToPath(new URL('../ui/', import.meta.url))
const require = createRequire(import.meta.url)

/** The browser libraries, by the name the page's import map gives them: package and file inside it. */
const VENDOR: ReadonlyMap<string, [string, string]> = new Map(
  Object.entries({
    'preact.mjs': ['preact', 'dist/preact.module.js'],
    'hooks.mjs': ['preact', 'hooks/dist/hooks.module.js'],
    'htm.mjs': ['htm', 'dist/htm.module.js'],
    'dagre.js': ['@dagrejs/dagre', 'dist/dagre.min.js'],
  } satisfies Record<string, [string, string]>),
)

/** A package's folder: its `exports` may hide the files the browser needs, so they are found from its entry point. */
function packageDir(name: string): string {
  let dir = dirname(require.resolve(name))
  while (!dir.endsWith(`${sep}node_modules${sep}${name.split('/').join(sep)}`)) {
    const up = dirname(dir)
    if (up === dir) throw new Error(`package ${name} not found`)
    dir = up
  }
  return dir
}

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
}
const typeOf = (path: string) => (Object.hasOwn(TYPES, extname(path)) ? TYPES[extname(path)]! : 'application/octet-stream')

/** Files are read once: they change only with a new version of the server. A miss is not kept (the map would grow
 * with every path anyone asks for). */
const cache = new Map<string, Promise<Buffer | null>>()
const read = (path: string) => {
  let file = cache.get(path)
  if (!file) {
    cache.set(path, (file = readFile(path).catch(() => null)))
    void file.then((found) => found === null && cache.delete(path))
  }
  return file
}

/** Libraries of several modules, whose folder is served whole: package and folder inside it. */
const VENDOR_FOLDERS: ReadonlyMap<string, [string, string]> = new Map([['yaml', ['yaml', 'browser/dist']]])

/** `relative` below `base`, or null when it would step out of it. */
function inside(base: string, relative: string): string | null {
  const clean = normalize(relative)
  return clean.startsWith('..') || clean.includes(`${sep}..`) || clean.startsWith(sep) ? null : join(base, clean)
}

/**
 * The vocabulary the browser modules share with the server (model/), written from the same constants: the UI does
 * not declare event names or statuses of its own.
 */
const VOCABULARY = [
  `export const EVENT_TYPES = ${JSON.stringify(EVENT_TYPES)}`,
  `export const EXECUTION_STATUSES = ${JSON.stringify(EXECUTION_STATUSES)}`,
  `export const TERMINAL_EXECUTION_STATUSES = ${JSON.stringify(TERMINAL_EXECUTION_STATUSES)}`,
  '',
].join('\n')

export function uiRoutes() {
  const send = async (path: string) => {
    const body = await read(path)
    if (!body) return null
    return new Response(new Uint8Array(body), {
      headers: { 'content-type': typeOf(path), 'cache-control': 'no-cache' },
    })
  }
  const shell = async () => (await send(join(UI_DIR, 'index.html')))!
  return new Hono()
    .get('/vendor/:file', async (c) => {
      // A Map, not an object: `/ui/vendor/constructor` must not find Object.prototype's.
      const vendored = VENDOR.get(c.req.param('file'))
      return (vendored && (await send(join(packageDir(vendored[0]), vendored[1])))) || c.notFound()
    })
    .get('/vendor/:folder/*', async (c) => {
      const vendored = VENDOR_FOLDERS.get(c.req.param('folder'))
      const rest = c.req.path.slice(`/ui/vendor/${c.req.param('folder')}/`.length)
      const path = vendored && inside(join(packageDir(vendored[0]), vendored[1]), rest)
      return (path && (await send(path))) || c.notFound()
    })
    .get('/assets/vocabulary.js', (c) => c.body(VOCABULARY, 200, { 'content-type': TYPES['.js']!, 'cache-control': 'no-cache' }))
    .get('/assets/*', async (c) => {
      // Nothing outside the assets folder, whatever the path says.
      const path = inside(join(UI_DIR, 'assets'), c.req.path.replace(/^\/ui\/assets\//, ''))
      return (path && (await send(path))) || c.notFound()
    })
    .get('/', shell)
    .get('/*', shell)
}
