// Executions: the list with status and workflow filters and paging, kept up to date by the stream of every
// execution's events.
import { useEffect, useRef, useState } from 'preact/hooks'
import { api, stream } from '../api.js'
import { EXECUTION_STATUSES, Link, Problem, Status, fmtDuration, fmtTime, html, shortId, useLoad } from '../lib.js'

const PAGE = 20
const LIFECYCLE = ['workflow_started', 'workflow_paused', 'workflow_resumed', 'workflow_completed', 'workflow_failed', 'workflow_canceled', 'task_completed']

export function ExecutionsPage({ query }) {
  const [status, setStatus] = useState(query.get('status') ?? '')
  const [workflowId, setWorkflowId] = useState(query.get('workflow_id') ?? '')
  const [offset, setOffset] = useState(0)
  const [tick, setTick] = useState(0)
  const timer = useRef(null)
  const workflows = useLoad(() => api('/api/workflows?limit=1000'), [])
  const names = new Map((workflows.data?.items ?? []).map((w) => [w.workflow_id, w.name]))
  const list = useLoad(() => {
    const params = new URLSearchParams({ limit: String(PAGE), offset: String(offset) })
    if (status) params.set('status', status)
    if (workflowId) params.set('workflow_id', workflowId)
    return api(`/api/executions?${params}`)
  }, [status, workflowId, offset, tick])

  // Live: any execution starting, pausing or ending refreshes the page shown (once per burst of events).
  useEffect(
    () =>
      stream(
        '/events/executions',
        () => {
          clearTimeout(timer.current)
          timer.current = setTimeout(() => setTick((t) => t + 1), 150)
        },
        LIFECYCLE,
      ),
    [],
  )

  const page = list.data
  return html`<div class="page">
    <h1>Executions</h1>
    <div class="filters">
      <label>Status
        <select value=${status} onChange=${(e) => (setStatus(e.target.value), setOffset(0))}>
          <option value="">any</option>
          ${EXECUTION_STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}
        </select>
      </label>
      <label>Workflow
        <select value=${workflowId} onChange=${(e) => (setWorkflowId(e.target.value), setOffset(0))}>
          <option value="">any</option>
          ${(workflows.data?.items ?? []).map((w) => html`<option value=${w.workflow_id}>${w.name}</option>`)}
        </select>
      </label>
    </div>
    <${Problem} error=${list.error} />
    ${page
      ? html`<table class="list executions-list">
            <thead><tr><th>Execution</th><th>Workflow</th><th>Status</th><th>Started</th><th>Duration</th></tr></thead>
            <tbody>
              ${page.items.map(
                (e) => html`<tr data-execution-id=${e.execution_id}>
                  <td><${Link} href=${`/ui/executions/${e.execution_id}`}><code>${shortId(e.execution_id)}</code></${Link}></td>
                  <td>${names.get(e.workflow_id) ?? shortId(e.workflow_id)}</td>
                  <td><${Status} status=${e.status} /></td>
                  <td>${fmtTime(e.start_time)}</td>
                  <td>${e.start_time ? fmtDuration((e.end_time ? Date.parse(e.end_time) : Date.now()) - Date.parse(e.start_time)) : '—'}</td>
                </tr>`,
              )}
            </tbody>
          </table>
          ${page.items.length === 0 ? html`<p class="empty">No execution${status || workflowId ? ' matches' : ' yet'}.</p>` : null}
          <div class="pager">
            <button disabled=${offset === 0} onClick=${() => setOffset(Math.max(0, offset - PAGE))}>← Newer</button>
            <span>${page.total === 0 ? 0 : offset + 1}–${Math.min(offset + PAGE, page.total)} of ${page.total}</span>
            <button disabled=${offset + PAGE >= page.total} onClick=${() => setOffset(offset + PAGE)}>Older →</button>
          </div>`
      : html`<p class="loading">Loading…</p>`}
  </div>`
}
