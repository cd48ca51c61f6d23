import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../src/http/server.js'

/** The UI's files over HTTP: the shell for every /ui path, the vendored libraries, nothing outside the UI folder. */

let server: RunningServer
beforeAll(async () => {
  server = await startServer({ port: 0, hostname: '127.0.0.1', tokens: ['admin:t'], harmoniaOptions: { database: 'memory:store' } })
})
afterAll(async () => {
  await server?.close()
})

describe('/ui', () => {
  it('redirects / to /ui and serves the shell at every /ui path without a token (it holds no data)', async () => {
    const root = await fetch(`${server.url}/`, { redirect: 'manual' })
    expect(root.status).toBe(302)
    expect(root.headers.get('location')).toBe('/ui')
    for (const path of ['/ui', '/ui/', '/ui/executions/123', '/ui/workflows']) {
      const response = await fetch(`${server.url}${path}`)
      expect(response.status, path).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/^text\/html/)
      const html = await response.text()
      expect(html).toContain('<script type="importmap">')
      // Everything the page loads comes from this server.
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//)
    }
    // The data does need the token.
    expect((await fetch(`${server.url}/api/executions`)).status).toBe(401)
  })

  it('serves the browser libraries and the modules with JavaScript types', async () => {
    for (const path of [
      '/ui/vendor/preact.mjs',
      '/ui/vendor/hooks.mjs',
      '/ui/vendor/htm.mjs',
      '/ui/vendor/dagre.js',
      '/ui/vendor/yaml/index.js',
      '/ui/vendor/yaml/doc/Document.js',
      '/ui/assets/app.js',
      '/ui/assets/pages/execution.js',
      '/ui/assets/vocabulary.js',
    ]) {
      const response = await fetch(`${server.url}${path}`)
      expect(response.status, path).toBe(200)
      expect(response.headers.get('content-type'), path).toBe('text/javascript; charset=utf-8')
      expect((await response.text()).length).toBeGreaterThan(200)
    }
    expect((await fetch(`${server.url}/ui/assets/style.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8')
  })

  it('answers 404 for an unknown library or asset, and serves nothing outside the assets folder', async () => {
    expect((await fetch(`${server.url}/ui/vendor/react.js`)).status).toBe(404)
    expect((await fetch(`${server.url}/ui/vendor/react/index.js`)).status).toBe(404)
    // Names of Object.prototype are not libraries (found by the route fuzzer).
    for (const name of ['constructor', '__proto__', 'toString']) {
      expect((await fetch(`${server.url}/ui/vendor/${name}`)).status, name).toBe(404)
      expect((await fetch(`${server.url}/ui/vendor/${name}/x.js`)).status, name).toBe(404)
    }
    expect((await fetch(`${server.url}/ui/vendor/yaml/..%2f..%2fpackage.json`)).status).toBe(404)
    expect((await fetch(`${server.url}/ui/assets/nothing.js`)).status).toBe(404)
    // Dot segments: resolved by the URL parser (then outside /ui: the token is asked for) or refused by the route.
    for (const path of [
      '/ui/assets/%2e%2e/%2e%2e/http/ui.ts',
      '/ui/assets/..%2f..%2fhttp%2fui.ts',
      '/ui/assets/%2e%2e%2f%2e%2e%2fhttp%2fui.ts',
    ]) {
      const response = await fetch(`${server.url}${path}`)
      expect([401, 404], path).toContain(response.status)
      expect(await response.text()).not.toContain('uiRoutes')
    }
  })
})
