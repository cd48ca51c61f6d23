// The timeline (Gantt) of an execution's attempts from its events: for each task the time it waited in the queue
// (ready → first start), each attempt running, and the waits between a failed attempt and its retry.
import { html, fmtDuration } from './lib.js'

const ENDS = new Set(['task_completed', 'task_failed', 'task_canceled', 'task_retrying'])

/** Segments per task: { kind: queued | running | retry, attempt, from, to, outcome }. */
export function segmentsOf(events, tasks, now) {
  const started = events.find((e) => e.type === 'workflow_started')
  const origin = started ? Date.parse(started.timestamp) : events.length ? Date.parse(events[0].timestamp) : now
  const ended = new Map()
  const out = new Map(tasks.map((t) => [t.id, []]))
  const open = new Map()
  for (const e of events) {
    if (!e.task_id || e.data?.index !== undefined || !out.has(e.task_id)) continue
    const at = Date.parse(e.timestamp)
    const list = out.get(e.task_id)
    if (e.type === 'task_started') {
      const last = list[list.length - 1]
      if (list.length === 0) {
        const task = tasks.find((t) => t.id === e.task_id)
        const ready = Math.max(origin, ...(task?.depends_on ?? []).map((d) => ended.get(d) ?? origin))
        if (at > ready) list.push({ kind: 'queued', from: ready, to: at })
      } else if (last?.kind === 'retry' && last.to === null) last.to = at
      const segment = { kind: 'running', attempt: Number(e.data?.attempt ?? 1), from: at, to: null, outcome: 'running' }
      list.push(segment)
      open.set(e.task_id, segment)
    } else if (ENDS.has(e.type)) {
      const segment = open.get(e.task_id)
      if (segment) {
        segment.to = at
        segment.outcome = e.type.replace('task_', '')
        open.delete(e.task_id)
      }
      if (e.type === 'task_retrying') list.push({ kind: 'retry', attempt: Number(e.data?.attempt ?? 1), from: at, to: null })
      else ended.set(e.task_id, at)
    } else if (e.type === 'task_skipped') ended.set(e.task_id, at)
  }
  for (const list of out.values()) for (const s of list) if (s.to === null) s.to = now
  return { origin, segments: out }
}

const LABEL = { queued: 'queued', running: 'attempt', retry: 'retry wait' }

export function Timeline({ events, tasks, finished }) {
  const last = events.length ? Date.parse(events[events.length - 1].timestamp) : Date.now()
  const now = finished ? last : Math.max(Date.now(), last)
  const { origin, segments } = segmentsOf(events, tasks, now)
  const span = Math.max(1, now - origin)
  const pct = (t) => `${(((t - origin) / span) * 100).toFixed(3)}%`
  const width = (s) => `${Math.max(0.4, ((s.to - s.from) / span) * 100).toFixed(3)}%`
  return html`<div class="timeline">
    <div class="tl-legend">
      <span class="seg-key queued"></span> queued <span class="seg-key running"></span> running
      <span class="seg-key retry"></span> retry wait <span class="seg-key failed"></span> failed attempt
      <span class="tl-span">${fmtDuration(span)}</span>
    </div>
    ${tasks.map(
      (t) =>
        html`<div class="tl-row" data-task-id=${t.id}>
          <div class="tl-name" title=${t.id}>${t.id}</div>
          <div class="tl-track">
            ${segments.get(t.id).map(
              (s) =>
                html`<div
                  class=${`seg ${s.kind} ${s.outcome ?? ''}`}
                  data-kind=${s.kind}
                  data-attempt=${s.attempt}
                  style=${`left:${pct(s.from)};width:${width(s)}`}
                  title=${`${LABEL[s.kind]}${s.attempt ? ` ${s.attempt}` : ''}: ${fmtDuration(s.to - s.from)}${s.outcome && s.kind === 'running' ? ` (${s.outcome})` : ''}`}
                ></div>`,
            )}
          </div>
        </div>`,
    )}
  </div>`
}
