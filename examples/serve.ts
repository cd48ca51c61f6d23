/**
 * A Harmonia server with the example components (`ergon`, `prometheus`) registered in-process, for the client
 * examples: `npx tsx examples/serve.ts`, then `HARMONIA_URL=http://127.0.0.1:8007 npx tsx examples/client-basic.ts`.
 * Uses an in-memory store unless DATABASE_URL or HARMONIA_DATABASE is set. Ctrl-C stops it.
 */
import { startServer } from '../src/http/server.js'
import { exampleComponents } from './components.js'

const server = await startServer({
  harmoniaOptions: { components: exampleComponents, database: process.env.HARMONIA_DATABASE ?? process.env.DATABASE_URL ?? 'memory:store' },
})
process.stdout.write(`Harmonia (with the example components) listening on ${server.url}\n`)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  })
}
