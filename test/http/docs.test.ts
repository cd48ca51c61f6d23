import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { operationAnchor } from '../../src/http/docs-page.js'
import { startServer, type RunningServer } from '../../src/http/server.js'

/** GET /docs (issue 14): every route of /openapi.json with its parameters, request and response fields, and examples. */

type Schema = { $ref?: string; properties?: Record<string, unknown>; items?: Schema; type?: unknown }
type Operation = {
  parameters?: { name: string }[]
  requestBody?: { content: Record<string, { schema?: Schema }> }
  responses: Record<string, { content?: Record<string, { schema?: Schema }> }>
}
type Document = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema> } }

let server: RunningServer
let doc: Document
let page: string
beforeAll(async () => {
  server = await startServer({ port: 0, hostname: '127.0.0.1', tokens: [], harmoniaOptions: { database: 'memory:store' } })
  doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as Document
  const response = await fetch(`${server.url}/docs`)
  expect(response.headers.get('content-type')).toMatch(/^text\/html/)
  page = await response.text()
})
afterAll(async () => {
  await server?.close()
})

/** The HTML of one operation's section. */
function sectionOf(method: string, path: string): string {
  const start = page.indexOf(`id="${operationAnchor(method, path)}"`)
  expect(start, `${method} ${path}`).toBeGreaterThan(0)
  const end = page.indexOf('</section>', start)
  return page.slice(start, end)
}

const resolve = (schema: Schema | undefined): Schema | undefined =>
  schema?.$ref ? doc.components.schemas[schema.$ref.split('/').pop()!] : schema
/** The top-level field names of a JSON schema (an array: of its items). */
const fieldsOf = (schema: Schema | undefined): string[] => {
  const s = resolve(schema)
  if (!s) return []
  if (s.type === 'array') return fieldsOf(s.items)
  return Object.keys(s.properties ?? {})
}

describe('GET /docs', () => {
  it('has a section for every route of the document, with its parameters, body fields, answer fields and examples', () => {
    let checked = 0
    for (const [path, item] of Object.entries(doc.paths)) {
      if (path.startsWith('/api/v1/')) continue
      for (const [method, operation] of Object.entries(item)) {
        const html = sectionOf(method, path)
        expect(html).toContain(`<code>${path}</code>`)
        for (const p of operation.parameters ?? [])
          expect(html, `${method} ${path} parameter ${p.name}`).toContain(`<code>${p.name}</code>`)
        const body = operation.requestBody?.content['application/json']?.schema
        for (const field of fieldsOf(body)) expect(html, `${method} ${path} body field ${field}`).toContain(`<code>${field}</code>`)
        if (fieldsOf(body).length > 0) expect(html).toContain('Example')
        for (const [status, response] of Object.entries(operation.responses)) {
          expect(html, `${method} ${path} ${status}`).toContain(`>${status}</span>`)
          if (!status.startsWith('2')) continue
          const schema = response.content?.['application/json']?.schema
          for (const field of fieldsOf(schema))
            expect(html, `${method} ${path} ${status} field ${field}`).toMatch(new RegExp(`<code>(\\[\\]\\.)?${field}</code>`))
        }
        checked++
      }
    }
    expect(checked).toBeGreaterThan(50)
  })

  it('describes the fields, and loads nothing from other hosts', () => {
    const html = sectionOf('post', '/api/executions')
    expect(html).toContain('The workflow id (UUID).')
    expect(page).not.toMatch(/<(script|link|img)\b/i)
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//i)
  })
})
