// Templates: the list, and one template's instantiate form generated from its parameter types.
import { useState } from 'preact/hooks'
import { api } from '../api.js'
import { InputForm, fieldsOf } from '../forms.js'
import { Link, Problem, fmtTime, html, navigate, pretty, useLoad } from '../lib.js'

export function TemplatesPage() {
  const list = useLoad(() => api('/api/templates?limit=1000'), [])
  return html`<div class="page">
    <h1>Templates</h1>
    <${Problem} error=${list.error} />
    <table class="list">
      <thead><tr><th>Name</th><th>Version</th><th>Parameters</th><th>Created</th><th>Description</th></tr></thead>
      <tbody>
        ${(list.data?.items ?? []).map(
          (t) => html`<tr data-template-id=${t.template_id}>
            <td><${Link} href=${`/ui/templates/${t.template_id}`}>${t.name}</${Link}></td><td>v${t.version}</td>
            <td>${Object.keys(t.parameters ?? {}).join(', ') || '—'}</td><td>${fmtTime(t.created_at)}</td><td>${t.description ?? ''}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${list.data?.items?.length === 0 ? html`<p class="empty">No template yet.</p>` : null}
  </div>`
}

export function TemplatePage({ id }) {
  const template = useLoad(() => api(`/api/templates/${id}`), [id])
  const [error, setError] = useState(null)
  const t = template.data
  if (!t) return template.error ? html`<${Problem} error=${template.error} />` : html`<p class="loading">Loading template…</p>`
  const instantiate = async (values) => {
    try {
      setError(null)
      const created = await api(`/api/templates/${id}/instantiate`, { method: 'POST', body: { parameter_values: values } })
      navigate(`/ui/workflows/${created.workflow_id}`)
    } catch (e) {
      setError(e)
    }
  }
  return html`<div class="page">
    <h1>${t.name} <small>template v${t.version}</small></h1>
    ${t.description ? html`<p>${t.description}</p>` : null}
    <p>Based on <${Link} href=${`/ui/workflows/${t.workflow_definition_id}`}>its workflow</${Link}> (v${t.workflow_version}).</p>
    <div class="two">
      <section class="card"><h2>Instantiate</h2><${InputForm} fields=${fieldsOf(t.parameters)} submitLabel="Create workflow" onSubmit=${instantiate} /><${Problem} error=${error} /></section>
      <section class="card"><h2>Parameters</h2><pre>${pretty(t.parameters)}</pre></section>
    </div>
  </div>`
}
