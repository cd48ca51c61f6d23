// The Harmonia web UI: a router over /ui/…, the navigation, and the token gate (with HARMONIA_API_TOKENS set,
// nothing is shown until a token the server accepts is given; it stays in this browser until "Sign out").
import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { api, clearToken, getToken, onUnauthorized, setToken } from './api.js'
import { Link, html } from './lib.js'
import { ComponentsPage, NodesPage } from './pages/components.js'
import { ExecutionPage } from './pages/execution.js'
import { ExecutionsPage } from './pages/executions.js'
import { TemplatePage, TemplatesPage } from './pages/templates.js'
import { WorkflowPage, WorkflowsPage } from './pages/workflows.js'

const ROUTES = [
  [/^\/ui\/executions\/([^/]+)$/, (m, q) => html`<${ExecutionPage} id=${m[1]} query=${q} />`],
  [/^\/ui\/executions\/?$/, (_, q) => html`<${ExecutionsPage} query=${q} />`],
  [/^\/ui\/workflows\/([^/]+)$/, (m, q) => html`<${WorkflowPage} id=${m[1]} query=${q} />`],
  [/^\/ui\/workflows\/?$/, () => html`<${WorkflowsPage} />`],
  [/^\/ui\/templates\/([^/]+)$/, (m) => html`<${TemplatePage} id=${m[1]} />`],
  [/^\/ui\/templates\/?$/, () => html`<${TemplatesPage} />`],
  [/^\/ui\/components\/?$/, () => html`<${ComponentsPage} />`],
  [/^\/ui\/nodes\/?$/, () => html`<${NodesPage} />`],
]

const NAV = [
  ['/ui/executions', 'Executions'],
  ['/ui/workflows', 'Workflows'],
  ['/ui/templates', 'Templates'],
  ['/ui/components', 'Components'],
  ['/ui/nodes', 'Nodes'],
]

function usePath() {
  const [where, setWhere] = useState(location.pathname + location.search)
  useEffect(() => {
    const moved = () => setWhere(location.pathname + location.search)
    addEventListener('popstate', moved)
    return () => removeEventListener('popstate', moved)
  }, [])
  return where
}

function TokenPrompt({ onToken, refused }) {
  const [value, setValue] = useState('')
  return html`<div class="token-prompt" role="dialog" aria-label="sign in">
    <h1>Harmonia</h1>
    <p>This server needs an API token (one of <code>HARMONIA_API_TOKENS</code>).</p>
    <form onSubmit=${(e) => (e.preventDefault(), value && onToken(value.trim()))}>
      <label for="token">API token</label>
      <input id="token" name="token" type="password" autocomplete="current-password" value=${value} onInput=${(e) => setValue(e.target.value)} />
      <button type="submit" class="primary">Sign in</button>
    </form>
    ${refused ? html`<p class="problem" role="alert">The server refused this token.</p>` : null}
  </div>`
}

function App() {
  const where = usePath()
  // unknown → checking; 'in' → the API answers; 'out' → it wants a token (refused: the last one was wrong).
  const [auth, setAuth] = useState({ state: 'unknown', refused: false })
  const check = () =>
    api('/api/workflows?limit=1').then(
      () => setAuth({ state: 'in', refused: false }),
      (error) => setAuth({ state: error.status === 401 ? 'out' : 'in', refused: error.status === 401 && !!getToken() }),
    )
  useEffect(() => {
    void check()
    return onUnauthorized(() => setAuth({ state: 'out', refused: !!getToken() }))
  }, [])
  if (auth.state === 'unknown') return html`<p class="loading">Loading…</p>`
  if (auth.state === 'out')
    return html`<${TokenPrompt}
      refused=${auth.refused}
      onToken=${(token) => {
        setToken(token)
        void check()
      }}
    />`
  const url = new URL(where, location.origin)
  const path = url.pathname === '/ui' || url.pathname === '/ui/' ? '/ui/executions' : url.pathname
  let page = html`<div class="page"><h1>Not found</h1><p>No page at <code>${path}</code>.</p></div>`
  for (const [pattern, view] of ROUTES) {
    const match = pattern.exec(path)
    if (match) {
      page = view(match, url.searchParams)
      break
    }
  }
  return html`<div class="shell">
    <header class="top">
      <${Link} href="/ui/executions" className="brand">Harmonia</${Link}>
      <nav>${NAV.map(([href, label]) => html`<${Link} href=${href} class=${path.startsWith(href) ? 'active' : ''}>${label}</${Link}>`)}</nav>
      <span class="spacer"></span>
      <a href="/docs" class="muted">API</a>
      ${getToken()
        ? html`<button
            class="plain"
            onClick=${() => {
              clearToken()
              setAuth({ state: 'unknown', refused: false })
              void check()
            }}
          >
            Sign out
          </button>`
        : null}
    </header>
    <main>${page}</main>
  </div>`
}

render(html`<${App} />`, document.getElementById('app'))
