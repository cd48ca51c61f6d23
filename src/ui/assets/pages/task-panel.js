// The selected task of an execution: its row (resolved input, output, error), every attempt with its times and
// outcome (from the event log), a fan-out's progress, and the sub-workflow it started.
import { Link, Status, fmtDuration, fmtTime, html, pretty, shortId } from '../lib.js'

/** Each attempt of `taskId`: number, start, end, outcome, error — from its events (fan-out elements left out). */
export function attemptsOf(events, taskId) {
  const attempts = []
  for (const e of events) {
    if (e.task_id !== taskId || e.data?.index !== undefined) continue
    if (e.type === 'task_started') attempts.push({ attempt: Number(e.data?.attempt ?? attempts.length + 1), start: e.timestamp, end: null, outcome: 'running', error: null })
    const current = attempts[attempts.length - 1]
    if (!current || current.end) continue
    if (e.type === 'task_retrying' || e.type === 'task_failed' || e.type === 'task_completed' || e.type === 'task_canceled') {
      current.end = e.timestamp
      current.outcome = e.type === 'task_retrying' ? 'failed, retried' : e.type.replace('task_', '')
      current.error = e.data?.error ?? null
      if (e.type === 'task_retrying') current.delay = e.data?.delay_ms
    }
  }
  return attempts
}

/** A fan-out's elements by index: the last thing each did (from their events, which carry `data.index`). */
export function elementsOf(events, taskId) {
  const byIndex = new Map()
  for (const e of events) {
    if (e.task_id !== taskId || e.data?.index === undefined) continue
    const seen = byIndex.get(e.data.index) ?? { index: e.data.index, attempts: 0, status: 'pending', error: null }
    if (e.type === 'task_started') seen.attempts = Number(e.data.attempt ?? seen.attempts + 1)
    seen.status = { task_started: 'running', task_retrying: 'retrying', task_completed: 'completed', task_failed: 'failed' }[e.type] ?? seen.status
    if (e.data.error) seen.error = e.data.error
    byIndex.set(e.data.index, seen)
  }
  return [...byIndex.values()].sort((a, b) => a.index - b.index)
}

export function TaskPanel({ task, row, events, onClose }) {
  if (!task) return null
  const attempts = attemptsOf(events, task.id)
  const elements = task.for_each !== undefined ? elementsOf(events, task.id) : []
  return html`<section class="card task-panel" data-task-id=${task.id}>
    <div class="title-row">
      <h2>Task <code>${task.id}</code> <${Status} status=${row?.status ?? 'pending'} /></h2>
      <button class="plain" onClick=${onClose} aria-label="close">✕</button>
    </div>
    <dl class="facts">
      <dt>Component</dt><dd><code>${task.component}.${task.action}</code></dd>
      <dt>Attempts</dt><dd>${row?.attempts ?? 0} (retries ${row?.retries ?? 0})</dd>
      <dt>Started</dt><dd>${fmtTime(row?.start_time)}</dd>
      <dt>Ended</dt><dd>${fmtTime(row?.end_time)}</dd>
      ${row?.items ? html`<dt>Elements</dt><dd>${row.items.completed} completed, ${row.items.failed} failed, ${row.items.running} running of ${row.items.total}</dd>` : null}
      ${row?.child_execution_id ? html`<dt>Sub-workflow</dt><dd><${Link} href=${`/ui/executions/${row.child_execution_id}`}>${shortId(row.child_execution_id)}</${Link}></dd>` : null}
      ${task.depends_on?.length ? html`<dt>Depends on</dt><dd>${task.depends_on.join(', ')}</dd>` : null}
    </dl>
    <h3>Attempts</h3>
    ${attempts.length === 0
      ? html`<p class="empty">Not started.</p>`
      : html`<table class="attempts"><thead><tr><th>#</th><th>Started</th><th>Ended</th><th>Took</th><th>Outcome</th><th>Error</th></tr></thead><tbody>
          ${attempts.map(
            (a) => html`<tr>
              <td>${a.attempt}</td><td>${fmtTime(a.start)}</td><td>${fmtTime(a.end)}</td>
              <td>${a.end ? fmtDuration(Date.parse(a.end) - Date.parse(a.start)) : '—'}</td>
              <td>${a.outcome}${a.delay !== undefined ? ` (next in ${fmtDuration(a.delay)})` : ''}</td>
              <td>${a.error ? html`<code>${a.error.message}</code>` : ''}</td>
            </tr>`,
          )}</tbody></table>`}
    ${elements.length
      ? html`<details class="elements" open=${elements.length <= 20}>
          <summary>Elements (${elements.length} seen)</summary>
          <div class="scroll"><table><thead><tr><th>#</th><th>Status</th><th>Attempts</th><th>Error</th></tr></thead><tbody>
            ${elements.map((el) => html`<tr data-index=${el.index}><td>${el.index}</td><td><${Status} status=${el.status} /></td><td>${el.attempts}</td><td>${el.error ? html`<code>${el.error.message}</code>` : ''}</td></tr>`)}
          </tbody></table></div>
        </details>`
      : null}
    <div class="two">
      <div><h3>Input (resolved)</h3><pre>${pretty(row?.input ?? null)}</pre></div>
      <div>
        ${row?.error ? html`<h3>Error</h3><pre class="error">${pretty(row.error)}</pre>` : html`<h3>Output</h3><pre>${pretty(row?.output ?? null)}</pre>`}
      </div>
    </div>
  </section>`
}
