// A form generated from an input description (a workflow's `input`, a template's `parameters`): a field per input of
// its type, with the default filled in and each value checked before it is sent; the server's own refusal (422 with
// the field's path) is shown by the page.
import { useState } from 'preact/hooks'
import { html } from './lib.js'

/** The fields of a description: `{name: {type, required, default, description}}`, or a JSON Schema object. */
export function fieldsOf(spec) {
  if (!spec || typeof spec !== 'object') return []
  if (spec.type === 'object' && spec.properties && typeof spec.properties === 'object') {
    const required = new Set(spec.required ?? [])
    return Object.entries(spec.properties).map(([name, s]) => ({
      name,
      type: Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : (s.type ?? 'string'),
      required: required.has(name),
      default: s.default,
      description: s.description,
      enum: s.enum,
    }))
  }
  return Object.entries(spec).map(([name, f]) => ({ name, type: f?.type ?? 'string', required: !!f?.required, default: f?.default, description: f?.description }))
}

const initial = (field) => {
  if (field.default === undefined) return field.type === 'boolean' ? false : ''
  return field.type === 'object' || field.type === 'array' ? JSON.stringify(field.default) : field.default
}

/** The typed value of one field, or an error message naming it. */
function parse(field, raw) {
  const empty = raw === '' || raw === undefined
  if (field.type === 'boolean') return { value: !!raw }
  if (empty) return field.required ? { error: `${field.name} is required` } : { skip: true }
  switch (field.type) {
    case 'integer':
    case 'number': {
      const n = Number(raw)
      if (!Number.isFinite(n)) return { error: `${field.name} must be a number` }
      if (field.type === 'integer' && !Number.isInteger(n)) return { error: `${field.name} must be an integer` }
      return { value: n }
    }
    case 'object':
    case 'array':
      try {
        const value = JSON.parse(raw)
        if (field.type === 'array' ? !Array.isArray(value) : value === null || typeof value !== 'object' || Array.isArray(value))
          return { error: `${field.name} must be a JSON ${field.type}` }
        return { value }
      } catch {
        return { error: `${field.name} is not valid JSON` }
      }
    default:
      return { value: String(raw) }
  }
}

/** fields: fieldsOf(...); onSubmit(values) returns a promise; its rejection is shown by the caller. */
export function InputForm({ fields, submitLabel, onSubmit }) {
  const [raw, setRaw] = useState(() => Object.fromEntries(fields.map((f) => [f.name, initial(f)])))
  const [errors, setErrors] = useState({})
  const [busy, setBusy] = useState(false)
  const set = (name, value) => setRaw((r) => ({ ...r, [name]: value }))
  const submit = async (e) => {
    e.preventDefault()
    const values = {}
    const found = {}
    for (const field of fields) {
      const result = parse(field, raw[field.name])
      if (result.error) found[field.name] = result.error
      else if (!result.skip) values[field.name] = result.value
    }
    setErrors(found)
    if (Object.keys(found).length > 0) return
    setBusy(true)
    try {
      await onSubmit(values)
    } finally {
      setBusy(false)
    }
  }
  return html`<form class="input-form" onSubmit=${submit} novalidate>
    ${fields.length === 0 ? html`<p class="hint">No input is described: the run starts with an empty input.</p>` : null}
    ${fields.map((f) => {
      const id = `field-${f.name}`
      const control =
        f.type === 'boolean'
          ? html`<input id=${id} type="checkbox" checked=${!!raw[f.name]} onChange=${(e) => set(f.name, e.target.checked)} />`
          : f.enum
            ? html`<select id=${id} value=${raw[f.name]} onChange=${(e) => set(f.name, e.target.value)}>
                <option value="">—</option>
                ${f.enum.map((v) => html`<option value=${v}>${v}</option>`)}
              </select>`
            : f.type === 'object' || f.type === 'array'
              ? html`<textarea id=${id} rows="3" value=${raw[f.name]} onInput=${(e) => set(f.name, e.target.value)} placeholder=${f.type === 'array' ? '[ ]' : '{ }'}></textarea>`
              : html`<input id=${id} type=${f.type === 'string' ? 'text' : 'number'} step=${f.type === 'integer' ? '1' : 'any'} value=${raw[f.name]}
                  onInput=${(e) => set(f.name, e.target.value)} />`
      return html`<div class=${`field${errors[f.name] ? ' invalid' : ''}`}>
        <label for=${id}>${f.name}${f.required ? html`<span class="req">*</span>` : null} <small>${f.type}</small></label>
        ${control}
        ${f.description ? html`<div class="hint">${f.description}</div>` : null}
        ${errors[f.name] ? html`<div class="field-error" role="alert">${errors[f.name]}</div>` : null}
      </div>`
    })}
    <button type="submit" class="primary" disabled=${busy}>${submitLabel}</button>
  </form>`
}
