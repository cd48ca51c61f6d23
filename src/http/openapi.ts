import { componentSchemas } from './openapi.components.js'
import { documentPaths } from './openapi.paths.js'
import { describeFields } from './openapi.fields.js'

/** The OpenAPI 3.1 document of every route (request bodies from the valibot schemas the routes parse with). */
export function openApiDocument(version: string) {
  const paths = documentPaths()
  const schemas = componentSchemas()
  describeFields(paths)
  describeFields(schemas)
  return {
    openapi: '3.1.0',
    info: { title: 'Harmonia', version, description: 'Durable workflow orchestration (Tekton). Errors are RFC 9457 problem+json.' },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas },
  }
}
