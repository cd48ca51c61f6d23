import { componentSchemas } from './openapi.components.js'
import { documentPaths } from './openapi.paths.js'

/** The OpenAPI 3.1 document of every route (request bodies from the valibot schemas the routes parse with). */
export function openApiDocument(version: string) {
  return {
    openapi: '3.1.0',
    info: { title: 'Harmonia', version, description: 'Durable workflow orchestration (Tekton). Errors are RFC 9457 problem+json.' },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths: documentPaths(),
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas: componentSchemas() },
  }
}

const escape = (s: string) => s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!)

/** A readable API reference rendered on the server: no scripts, nothing loaded from elsewhere. */
export function docsPage(): string {
  const doc = openApiDocument('')
  const rows = Object.entries(doc.paths)
    .filter(([path]) => !path.startsWith('/api/v1/'))
    .flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, o]) => {
        const summary = (o as { summary?: string }).summary ?? ''
        return `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escape(path)}</code></td><td>${escape(summary)}</td></tr>`
      }),
    )
    .join('\n')
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Harmonia API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}td{padding:.3rem .8rem;border-bottom:1px solid #ddd}code{font-size:13px}</style>
</head><body><h1>Harmonia API</h1><p>Every route is also mounted under <code>/api/v1</code>. Errors are RFC 9457 <code>application/problem+json</code>.
The machine-readable spec is <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
<table><thead><tr><th>Method</th><th>Path</th><th>What it does</th></tr></thead><tbody>
${rows}
</tbody></table></body></html>`
}
