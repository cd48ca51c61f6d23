// What every page uses: the html tag, navigation, formatting, and the vocabulary of statuses and events (API.md).
import { h } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import htm from 'htm'
import { TERMINAL_EXECUTION_STATUSES } from './vocabulary.js'

export const html = htm.bind(h)

// Event names and statuses come from the server's own declarations (src/http/ui.ts serves vocabulary.js).
export { EVENT_TYPES, EXECUTION_STATUSES } from './vocabulary.js'
export const TERMINAL = new Set(TERMINAL_EXECUTION_STATUSES)

/** Moves to a page of the UI without reloading. */
export function navigate(path) {
  history.pushState(null, '', path)
  dispatchEvent(new PopStateEvent('popstate'))
}

/** A link inside the UI. */
export const Link = ({ href, children, ...rest }) =>
  html`<a
    href=${href}
    onClick=${(e) => {
      if (e.ctrlKey || e.metaKey || e.button !== 0) return
      e.preventDefault()
      navigate(href)
    }}
    ...${rest}
    >${children}</a
  >`

export const Status = ({ status }) => html`<span class=${`status st-${status}`}>${status}</span>`

export const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString() : '—')
export function fmtDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`
}
export const shortId = (id) => (id ? id.slice(0, 8) : '')
export const pretty = (value) => JSON.stringify(value, null, 2)

/** Loads `load()` when `deps` change: { data, error, loading, reload }. */
export function useLoad(load, deps) {
  const [state, setState] = useState({ data: undefined, error: null, loading: true })
  const [tick, setTick] = useState(0)
  useEffect(() => {
    let live = true
    setState((s) => ({ ...s, loading: true }))
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState({ data: undefined, error, loading: false }),
    )
    return () => (live = false)
  }, [...deps, tick])
  return { ...state, reload: () => setTick((t) => t + 1) }
}

/** A refused action's problem+json, as the server said it. */
export const Problem = ({ error }) =>
  error
    ? html`<div class="problem" role="alert">
        <strong>${error.problem?.title ?? 'Error'}${error.status ? ` (${error.status})` : ''}</strong>
        <div>${error.message}</div>
        ${error.problem?.errors?.length ? html`<ul>${error.problem.errors.map((e) => html`<li><code>${e.path}</code>: ${e.message}</li>`)}</ul>` : null}
      </div>`
    : null

/** A button that runs `action`, shows it is busy, and reports a refusal through `onError`. */
export function ActionButton({ label, action, onError, onDone, className = '', disabled = false, title }) {
  const [busy, setBusy] = useState(false)
  return html`<button
    class=${className}
    title=${title}
    disabled=${busy || disabled}
    onClick=${async () => {
      setBusy(true)
      onError?.(null)
      try {
        const result = await action()
        onDone?.(result)
      } catch (error) {
        onError?.(error)
      } finally {
        setBusy(false)
      }
    }}
  >
    ${label}
  </button>`
}
