// Components with their health on demand, and the nodes sharing the database.
import { useState } from 'preact/hooks'
import { api } from '../api.js'
import { ActionButton, Problem, fmtTime, html, useLoad } from '../lib.js'

const itemsOf = (data) => (Array.isArray(data) ? data : (data?.items ?? []))

export function ComponentsPage() {
  const list = useLoad(() => api('/api/components'), [])
  const [health, setHealth] = useState({})
  const [error, setError] = useState(null)
  return html`<div class="page">
    <h1>Components</h1>
    <${Problem} error=${list.error ?? error} />
    <table class="list components-list">
      <thead><tr><th>Name</th><th>Source</th><th>Where</th><th>Actions</th><th>Health</th></tr></thead>
      <tbody>
        ${itemsOf(list.data).map((c) => {
          const h = health[c.name]
          return html`<tr data-component=${c.name}>
            <td><strong>${c.name}</strong>${c.enabled === false ? html` <small>(disabled)</small>` : null}<div class="hint">${c.description ?? ''}</div></td>
            <td>${c.source}</td><td>${c.url ? html`<code>${c.url}</code>` : 'in process'}</td>
            <td>${c.actions ? c.actions.join(', ') : 'any'}</td>
            <td>
              ${h ? html`<span class=${`status st-${h.healthy ? 'completed' : 'failed'}`}>${h.healthy ? 'healthy' : 'unhealthy'}</span>
                    ${h.latency_ms !== undefined ? html` <small>${h.latency_ms} ms</small>` : null}${h.error ? html` <small>${h.error}</small>` : null} ` : null}
              <${ActionButton} label="Check" action=${() => api(`/api/components/${encodeURIComponent(c.name)}/health`)} onError=${setError}
                onDone=${(answer) => setHealth((s) => ({ ...s, [c.name]: answer }))} />
            </td>
          </tr>`
        })}
      </tbody>
    </table>
  </div>`
}

export function NodesPage() {
  const list = useLoad(() => api('/api/nodes'), [])
  return html`<div class="page">
    <h1>Nodes</h1>
    <${Problem} error=${list.error} />
    <table class="list">
      <thead><tr><th>Node</th><th>Version</th><th>Started</th><th>Last seen</th><th>Executions held</th></tr></thead>
      <tbody>
        ${itemsOf(list.data).map(
          (n) => html`<tr><td><code>${n.node_id}</code></td><td>${n.version}</td><td>${fmtTime(n.started_at)}</td><td>${fmtTime(n.last_seen)}</td><td>${n.executions_owned}</td></tr>`,
        )}
      </tbody>
    </table>
  </div>`
}
