// Workflows: the list with search; one workflow with its DAG, definition, versions, schedules, recent executions and
// a run form generated from its `input` description.
import { useState } from 'preact/hooks'
import { stringify as toYaml } from 'yaml'
import { api } from '../api.js'
import { Dag } from '../dag.js'
import { InputForm, fieldsOf } from '../forms.js'
import { Link, Problem, Status, fmtTime, html, navigate, pretty, shortId, useLoad } from '../lib.js'

export function WorkflowsPage() {
  const [search, setSearch] = useState('')
  const list = useLoad(() => api('/api/workflows?limit=1000'), [])
  const needle = search.trim().toLowerCase()
  const items = (list.data?.items ?? []).filter(
    (w) => !needle || w.name.toLowerCase().includes(needle) || (w.description ?? '').toLowerCase().includes(needle) || w.workflow_id.startsWith(needle),
  )
  return html`<div class="page">
    <h1>Workflows</h1>
    <div class="filters"><label>Search <input type="search" value=${search} onInput=${(e) => setSearch(e.target.value)} placeholder="name, description or id" /></label></div>
    <${Problem} error=${list.error} />
    <table class="list workflows-list">
      <thead><tr><th>Name</th><th>Version</th><th>Tasks</th><th>Updated</th><th>Description</th></tr></thead>
      <tbody>
        ${items.map(
          (w) => html`<tr data-workflow-id=${w.workflow_id}>
            <td><${Link} href=${`/ui/workflows/${w.workflow_id}`}>${w.name}</${Link}></td>
            <td>v${w.version}</td><td>${w.tasks.length}</td><td>${fmtTime(w.updated_at)}</td><td>${w.description ?? ''}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${list.data && items.length === 0 ? html`<p class="empty">No workflow${needle ? ' matches' : ' yet'}.</p>` : null}
  </div>`
}

/** The definition as it was sent (what PUT takes back), without the server's bookkeeping fields. */
const definitionOf = ({ workflow_id: _id, version: _v, created_at: _c, updated_at: _u, ...definition }) => definition

export function WorkflowPage({ id, query }) {
  const version = query.get('version')
  const workflow = useLoad(() => api(`/api/workflows/${id}${version ? `?version=${version}` : ''}`), [id, version])
  const versions = useLoad(() => api(`/api/workflows/${id}/versions?limit=100`), [id])
  const schedules = useLoad(() => api(`/api/workflows/${id}/schedules`).catch(() => []), [id])
  const recent = useLoad(() => api(`/api/executions?workflow_id=${id}&limit=10`), [id])
  const [error, setError] = useState(null)
  const [view, setView] = useState('graph')
  const w = workflow.data
  if (!w) return workflow.error ? html`<${Problem} error=${workflow.error} />` : html`<p class="loading">Loading workflow…</p>`
  const scheduleList = Array.isArray(schedules.data) ? schedules.data : (schedules.data?.items ?? [])
  const run = async (input) => {
    try {
      setError(null)
      const created = await api('/api/executions', { method: 'POST', body: { workflow_id: id, version: w.version, input } })
      navigate(`/ui/executions/${created.execution_id}`)
    } catch (e) {
      setError(e)
    }
  }
  return html`<div class="page workflow">
    <h1>${w.name} <small>v${w.version}</small></h1>
    ${w.description ? html`<p>${w.description}</p>` : null}
    <div class="tabs">
      <button class=${view === 'graph' ? 'active' : ''} onClick=${() => setView('graph')}>Graph</button>
      <button class=${view === 'yaml' ? 'active' : ''} onClick=${() => setView('yaml')}>Definition (YAML)</button>
      <button class=${view === 'definition' ? 'active' : ''} onClick=${() => setView('definition')}>Definition (JSON)</button>
    </div>
    <section class="card">
      ${view === 'graph'
        ? html`<${Dag} tasks=${w.tasks} />`
        : html`<pre class="definition">${view === 'yaml' ? toYaml(definitionOf(w)) : pretty(definitionOf(w))}</pre>`}
    </section>
    <div class="two">
      <section class="card run">
        <h2>Run</h2>
        <${InputForm} fields=${fieldsOf(w.input)} submitLabel="Run workflow" onSubmit=${run} />
        <${Problem} error=${error} />
      </section>
      <section class="card">
        <h2>Recent executions</h2>
        ${recent.data?.items?.length
          ? html`<table class="list"><tbody>${recent.data.items.map(
              (e) => html`<tr><td><${Link} href=${`/ui/executions/${e.execution_id}`}><code>${shortId(e.execution_id)}</code></${Link}></td><td><${Status} status=${e.status} /></td><td>${fmtTime(e.start_time)}</td></tr>`,
            )}</tbody></table>
            <${Link} href=${`/ui/executions?workflow_id=${id}`}>All executions of this workflow →</${Link}>`
          : html`<p class="empty">Not run yet.</p>`}
      </section>
    </div>
    <div class="two">
      <section class="card">
        <h2>Versions</h2>
        <table class="list"><tbody>
          ${(versions.data?.items ?? []).map(
            (v) => html`<tr><td><${Link} href=${`/ui/workflows/${id}?version=${v.version}`}>v${v.version}</${Link}></td><td>${fmtTime(v.created_at)}</td></tr>`,
          )}
        </tbody></table>
      </section>
      <section class="card">
        <h2>Schedules</h2>
        ${scheduleList.length
          ? html`<table class="list"><thead><tr><th>Cron</th><th>Time zone</th><th>Enabled</th><th>Next run</th><th>Last tick</th></tr></thead><tbody>
              ${scheduleList.map((s) => html`<tr><td><code>${s.cron}</code></td><td>${s.timezone}</td><td>${s.enabled ? "yes" : "no"}</td><td>${fmtTime(s.next_run_times?.[0])}</td><td>${fmtTime(s.last_tick)}</td></tr>`)}
            </tbody></table>`
          : html`<p class="empty">No schedule.</p>`}
      </section>
    </div>
  </div>`
}
