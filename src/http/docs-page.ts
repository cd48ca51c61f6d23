import { openApiDocument } from './openapi.js'

/**
 * The API reference page (/docs), rendered on the server from the OpenAPI document: every route with its parameters,
 * request and response fields (resolved through $ref), their descriptions, and an example built from each schema. No
 * script and nothing loaded from elsewhere: it reads offline.
 */

type Schema = Record<string, unknown>
type Operation = {
  tags?: string[]
  summary?: string
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: Schema }[]
  requestBody?: { content: Record<string, { schema?: Schema }> }
  responses: Record<string, { description?: string; content?: Record<string, { schema?: Schema }> }>
}

/** A schema keyword read as text ('' when it is not a string). */
const str = (value: unknown): string => (typeof value === 'string' ? value : '')
const escape = (s: string) => s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!)
/** The anchor of an operation: `op-get-api-workflows-id`. */
export const operationAnchor = (method: string, path: string) => `op-${method}-${path.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}`

export function docsPage(): string {
  const doc = openApiDocument('')
  const schemas = doc.components.schemas as Record<string, Schema>
  const resolve = (schema: Schema | undefined): Schema | undefined => {
    const ref = schema?.$ref
    return typeof ref === 'string' ? schemas[ref.split('/').pop()!] : schema
  }
  const typeOf = (schema: Schema | undefined): string => {
    const s = resolve(schema)
    if (!s) return ''
    if (typeof schema?.$ref === 'string') return schema.$ref.split('/').pop()!
    if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ')
    const type = Array.isArray(s.type) ? s.type.join(' | ') : str(s.type) || (s.anyOf ? 'one of several' : 'any')
    if (s.type === 'array') return `array of ${typeOf(s.items as Schema) || 'any'}`
    return s.format ? `${type} (${str(s.format)})` : type
  }

  /** Rows of a schema's fields, nested objects as dotted names (two levels; named schemas are linked, not expanded). */
  const fieldRows = (schema: Schema | undefined, prefix = '', depth = 0): string[] => {
    const s = resolve(schema)
    if (!s) return []
    if (s.type === 'array' && s.items) return fieldRows(s.items as Schema, `${prefix}[]`, depth)
    const properties = (s.properties ?? {}) as Record<string, Schema>
    const required = new Set((s.required as string[] | undefined) ?? [])
    return Object.entries(properties).flatMap(([name, property]) => {
      const full = prefix ? `${prefix}.${name}` : name
      const row = `<tr><td><code>${escape(full)}</code></td><td>${escape(typeOf(property))}</td><td>${required.has(name) ? 'yes' : ''}</td><td>${escape(str(property.description) || str(resolve(property)?.description))}</td></tr>`
      const nested = depth < 1 && !property.$ref ? fieldRows(property, full, depth + 1) : []
      return [row, ...nested]
    })
  }
  const fieldsTable = (schema: Schema | undefined) => {
    const rows = fieldRows(schema)
    return rows.length === 0
      ? ''
      : `<table><thead><tr><th>Field</th><th>Type</th><th>Required</th><th>Description</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
  }

  /** A plausible value of a schema: its example, default, const or first enum value, else one made from its type. */
  const exampleOf = (schema: Schema | undefined, depth = 0): unknown => {
    const s = resolve(schema)
    if (!s || depth > 4) return null
    for (const key of ['example', 'default', 'const'] as const) if (s[key] !== undefined) return s[key]
    if (Array.isArray(s.enum)) return s.enum[0]
    if (Array.isArray(s.anyOf)) return exampleOf(s.anyOf[0] as Schema, depth + 1)
    const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type
    switch (type) {
      case 'object': {
        const properties = (s.properties ?? {}) as Record<string, Schema>
        return Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, exampleOf(v, depth + 1)]))
      }
      case 'array':
        return s.items ? [exampleOf(s.items as Schema, depth + 1)] : []
      case 'string':
        return s.format === 'uuid' ? '0f8fad5b-d9cb-469f-a165-70867728950e' : s.format === 'date-time' ? '2026-01-01T12:00:00.000Z' : 'text'
      case 'integer':
        return typeof s.minimum === 'number' ? s.minimum : 1
      case 'number':
        return 1.5
      case 'boolean':
        return true
      default:
        return null
    }
  }
  const example = (schema: Schema | undefined) =>
    resolve(schema) ? `<details><summary>Example</summary><pre>${escape(JSON.stringify(exampleOf(schema), null, 2))}</pre></details>` : ''

  const jsonOf = (content: Record<string, { schema?: Schema }> | undefined) => content?.['application/json']?.schema

  const section = (method: string, path: string, o: Operation) => {
    const params = o.parameters ?? []
    const paramTable =
      params.length === 0
        ? ''
        : `<h4>Parameters</h4><table><thead><tr><th>Name</th><th>In</th><th>Type</th><th>Required</th><th>Description</th></tr></thead><tbody>${params
            .map(
              (p) =>
                `<tr><td><code>${escape(p.name)}</code></td><td>${p.in}</td><td>${escape(typeOf(p.schema))}</td><td>${p.required ? 'yes' : ''}</td><td>${escape(p.description ?? str(p.schema?.description))}</td></tr>`,
            )
            .join('')}</tbody></table>`
    const body = jsonOf(o.requestBody?.content)
    const bodyPart = body ? `<h4>Request body <small>${escape(typeOf(body))}</small></h4>${fieldsTable(body)}${example(body)}` : ''
    const responses = Object.entries(o.responses)
      .map(([status, r]) => {
        const schema = jsonOf(r.content)
        const other = r.content && !schema ? ` <small>${escape(Object.keys(r.content).join(', '))}</small>` : ''
        return `<div class="response"><h5><span class="status s${status[0]}">${status}</span> ${escape(r.description ?? '')}${schema ? ` <small>${escape(typeOf(schema))}</small>` : ''}${other}</h5>${
          status.startsWith('2') ? fieldsTable(schema) + example(schema) : ''
        }</div>`
      })
      .join('')
    return `<section class="op" id="${operationAnchor(method, path)}"><h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${escape(path)}</code></h3><p>${escape(o.summary ?? '')}</p>${paramTable}${bodyPart}<h4>Responses</h4>${responses}</section>`
  }

  const operations = Object.entries(doc.paths as Record<string, Record<string, Operation>>)
    .filter(([path]) => !path.startsWith('/api/v1/'))
    .flatMap(([path, item]) => Object.entries(item).map(([method, o]) => ({ method, path, o, tag: o.tags?.[0] ?? 'other' })))
  const tags = [...new Set(operations.map((op) => op.tag))]
  const nav = tags.map((tag) => `<li><a href="#tag-${tag}">${escape(tag)}</a></li>`).join('')
  const body = tags
    .map(
      (tag) =>
        `<h2 id="tag-${tag}">${escape(tag)}</h2>${operations
          .filter((op) => op.tag === tag)
          .map((op) => section(op.method, op.path, op.o))
          .join('\n')}`,
    )
    .join('\n')
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Harmonia API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1d2433}table{border-collapse:collapse;width:100%;margin:.3rem 0}td,th{padding:.25rem .6rem;border-bottom:1px solid #e3e6ec;text-align:left;vertical-align:top}code{font-size:13px}.op{border:1px solid #d8dce4;border-radius:6px;padding:.2rem 1rem;margin:1rem 0}.method{display:inline-block;min-width:4.2rem;font-size:13px;color:#fff;border-radius:4px;padding:0 .4rem;text-align:center;background:#5b6b8a}.get{background:#2f7d4f}.post{background:#2d5fa8}.put{background:#a86b12}.delete{background:#b03a2e}.status{font-family:monospace;padding:0 .3rem;border-radius:3px;background:#eef}.s2{background:#dff3e4}.s4,.s5{background:#fbe3e0}pre{background:#f6f7f9;padding:.6rem;overflow:auto}nav ul{display:flex;flex-wrap:wrap;gap:.2rem 1rem;list-style:none;padding:0}h5{margin:.4rem 0;font-size:14px}</style>
</head><body><h1>Harmonia API</h1><p>Every <code>/api</code> route is also mounted under <code>/api/v1</code>. Errors are RFC 9457 <code>application/problem+json</code>.
The machine-readable spec is <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p><nav><ul>${nav}</ul></nav>
${body}
</body></html>`
}
