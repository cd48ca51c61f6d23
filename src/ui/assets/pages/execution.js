// One execution: its DAG coloured live over SSE, the timeline of attempts, the selected task's panel, the event log,
// links to parent/child executions, checkpoints, and the commands (pause, resume, cancel, signal, checkpoint, restore,
// rerun of selected tasks), each through the public API with its refusal shown as the server said it.
import { useEffect, useRef, useState } from 'preact/hooks'
import { api, stream } from '../api.js'
import { Dag } from '../dag.js'
import { ActionButton, EVENT_TYPES, Link, Problem, Status, TERMINAL, fmtDuration, fmtTime, html, navigate, pretty, shortId, useLoad } from '../lib.js'
import { TaskPanel } from './task-panel.js'
import { Timeline } from '../timeline.js'

export function ExecutionPage({ id }) {
  const [execution, setExecution] = useState(null)
  const [events, setEvents] = useState([])
  const [error, setError] = useState(null)
  const [selected, setSelected] = useState(new Set())
  const [focus, setFocus] = useState(null)
  const refresh = useRef(null)
  const load = async () => setExecution(await api(`/api/executions/${id}`))

  useEffect(() => {
    setExecution(null)
    setEvents([])
    setSelected(new Set())
    setFocus(null)
    load().catch(setError)
    const seen = new Set()
    // The stream replays the history, then sends what happens: every event once, in order (resumed after a reconnect).
    const close = stream(
      `/events/executions/${id}`,
      (event) => {
        if (seen.has(event.seq)) return
        seen.add(event.seq)
        setEvents((list) => [...list, event])
        // Rows follow the events: read again once a burst of events is over.
        clearTimeout(refresh.current)
        refresh.current = setTimeout(() => load().catch(setError), 60)
      },
      EVENT_TYPES,
    )
    return () => {
      close()
      clearTimeout(refresh.current)
    }
  }, [id])

  const workflow = useLoad(
    () => (execution ? api(`/api/workflows/${execution.workflow_id}?version=${execution.workflow_version}`) : Promise.resolve(null)),
    [execution?.workflow_id, execution?.workflow_version],
  )
  const checkpoints = useLoad(() => api(`/api/checkpoints?execution_id=${id}&limit=100`), [id, events.filter((e) => e.type === 'checkpoint_created').length])

  if (!execution) return error ? html`<${Problem} error=${error} />` : html`<p class="loading">Loading execution…</p>`
  const tasks = workflow.data?.tasks ?? Object.keys(execution.task_executions).map((task_id) => ({ id: task_id, depends_on: [] }))
  const status = execution.status
  const finished = TERMINAL.has(status)
  const run = (path, body) => () => api(`/api/executions/${id}${path}`, { method: 'POST', body })
  const select = (taskId, additive) => {
    setFocus(taskId)
    setSelected((s) => {
      const next = new Set(additive ? s : [])
      if (additive && s.has(taskId)) next.delete(taskId)
      else next.add(taskId)
      return next
    })
  }
  const children = Object.values(execution.task_executions).filter((t) => t.child_execution_id)

  return html`<div class="page execution">
    <div class="title-row">
      <h1>Execution <code>${shortId(id)}</code> <${Status} status=${status} /></h1>
      <div class="actions" data-testid="actions">
        <${ActionButton} label="Pause" action=${run('/pause')} onError=${setError} onDone=${load} disabled=${status !== 'running'} />
        <${ActionButton} label="Resume" action=${run('/resume')} onError=${setError} onDone=${load} disabled=${status !== 'paused'} />
        <${ActionButton} label="Cancel" className="danger" action=${run('/cancel')} onError=${setError} onDone=${load} disabled=${finished} />
        <${ActionButton}
          label="Checkpoint"
          action=${() => api('/api/checkpoints', { method: 'POST', body: { execution_id: id } })}
          onError=${setError}
          onDone=${checkpoints.reload}
        />
        <${ActionButton}
          label=${`Rerun selected (${selected.size})`}
          title="Rerun the selected tasks (shift-click to select several) in a new execution"
          disabled=${selected.size === 0}
          action=${() => api(`/api/executions/${id}/rerun`, { method: 'POST', body: { tasks: [...selected] } })}
          onError=${setError}
          onDone=${(created) => navigate(`/ui/executions/${created.execution_id}`)}
        />
      </div>
    </div>
    <${Problem} error=${error} />
    <dl class="facts">
      <dt>Workflow</dt><dd><${Link} href=${`/ui/workflows/${execution.workflow_id}`}>${workflow.data?.name ?? shortId(execution.workflow_id)}</${Link}> v${execution.workflow_version}</dd>
      <dt>Started</dt><dd>${fmtTime(execution.start_time)}</dd>
      <dt>Ended</dt><dd>${fmtTime(execution.end_time)}</dd>
      <dt>Duration</dt><dd>${execution.start_time ? fmtDuration((execution.end_time ? Date.parse(execution.end_time) : Date.now()) - Date.parse(execution.start_time)) : '—'}</dd>
      ${execution.parent ? html`<dt>Parent</dt><dd><${Link} href=${`/ui/executions/${execution.parent.execution_id}`}>${shortId(execution.parent.execution_id)}</${Link}> (task ${execution.parent.task_id})</dd>` : null}
      ${execution.rerun_of ? html`<dt>Rerun of</dt><dd><${Link} href=${`/ui/executions/${execution.rerun_of}`}>${shortId(execution.rerun_of)}</${Link}></dd>` : null}
      ${execution.restored_from ? html`<dt>Restored from</dt><dd>checkpoint <code>${shortId(execution.restored_from)}</code></dd>` : null}
      ${children.length ? html`<dt>Children</dt><dd>${children.map((t) => html`<${Link} href=${`/ui/executions/${t.child_execution_id}`}>${t.task_id} → ${shortId(t.child_execution_id)}</${Link}> `)}</dd>` : null}
    </dl>
    <section class="card">
      <h2>Graph</h2>
      <${Dag} tasks=${tasks} rows=${execution.task_executions} selected=${selected} onSelect=${select} />
      <p class="hint">Click a task for its details; shift-click to select several for a rerun.</p>
    </section>
    ${focus ? html`<${TaskPanel} task=${tasks.find((t) => t.id === focus)} row=${execution.task_executions[focus]} events=${events} onClose=${() => setFocus(null)} />` : null}
    <section class="card"><h2>Timeline</h2><${Timeline} events=${events} tasks=${tasks} finished=${finished} /></section>
    <div class="two">
      <section class="card"><h2>Input</h2><pre>${pretty(execution.input)}</pre>${finished ? html`<h2>Output</h2><pre>${pretty(execution.output)}</pre>` : null}
        ${execution.error ? html`<h2>Error</h2><pre class="error">${pretty(execution.error)}</pre>` : null}</section>
      <${SignalForm} id=${id} onError=${setError} disabled=${finished} />
    </div>
    <section class="card">
      <h2>Checkpoints</h2>
      ${checkpoints.data?.items?.length
        ? html`<table><thead><tr><th>Checkpoint</th><th>Taken</th><th>Status</th><th>Completed tasks</th><th></th></tr></thead><tbody>
            ${checkpoints.data.items.map(
              (c) => html`<tr>
                <td><code>${shortId(c.checkpoint_id)}</code></td><td>${fmtTime(c.created_at)}</td><td><${Status} status=${c.workflow_status} /></td>
                <td>${c.completed_tasks.join(', ') || '—'}</td>
                <td><${ActionButton} label="Restore" action=${() => api(`/api/checkpoints/${c.checkpoint_id}/restore`, { method: 'POST' })} onError=${setError}
                  onDone=${(created) => navigate(`/ui/executions/${created.execution_id}`)} /></td>
              </tr>`,
            )}</tbody></table>`
        : html`<p class="empty">No checkpoint yet.</p>`}
    </section>
    <section class="card">
      <h2>Events <small>${events.length}</small></h2>
      <div class="scroll"><table class="events"><thead><tr><th>#</th><th>Time</th><th>Event</th><th>Task</th><th>Data</th></tr></thead><tbody>
        ${events.map(
          (e) => html`<tr data-type=${e.type}><td>${e.seq}</td><td>${new Date(e.timestamp).toLocaleTimeString()}</td><td>${e.type}</td>
            <td>${e.task_id ?? ''}${e.data?.index !== undefined ? `[${e.data.index}]` : ''}</td><td><code class="data">${JSON.stringify(e.data)}</code></td></tr>`,
        )}
      </tbody></table></div>
    </section>
  </div>`
}

function SignalForm({ id, onError, disabled }) {
  const [name, setName] = useState('')
  const [payload, setPayload] = useState('{}')
  const [sent, setSent] = useState(null)
  return html`<section class="card">
    <h2>Send a signal</h2>
    <label>Name <input value=${name} onInput=${(e) => setName(e.target.value)} placeholder="approved" /></label>
    <label>Payload (JSON) <textarea rows="3" value=${payload} onInput=${(e) => setPayload(e.target.value)}></textarea></label>
    <${ActionButton}
      label="Send signal"
      disabled=${disabled || !name}
      action=${() => api(`/api/executions/${id}/signals/${encodeURIComponent(name)}`, { method: 'POST', body: { payload: JSON.parse(payload || 'null') } })}
      onError=${onError}
      onDone=${(answer) => setSent(answer)}
    />
    ${sent ? html`<p class="ok">Signal ${sent.delivered ? 'delivered to a waiting task' : 'kept until a task waits for it'}.</p>` : null}
  </section>`
}
