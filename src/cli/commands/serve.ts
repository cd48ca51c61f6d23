import { int, str, type Command } from '../command.js'

export const serveCommand: Command = {
  name: 'serve',
  args: '',
  summary: 'start the Harmonia server (REST, SSE, WebSocket) until SIGTERM or SIGINT',
  details:
    'The database is PGlite in HARMONIA_DATA_DIR (default ./.harmonia), or Postgres with DATABASE_URL. ' +
    'HARMONIA_API_TOKENS (comma-separated) turns on bearer-token auth.',
  options: {
    port: { type: 'string', value: '<port>', help: 'port to listen on (env HARMONIA_PORT, default 8007; 0 picks a free one)' },
    host: { type: 'string', value: '<host>', help: 'address to bind (default 0.0.0.0)' },
  },
  arity: [0, 0],
  async run(ctx) {
    const port = int(ctx.values, 'port')
    const hostname = str(ctx.values, 'host')
    // Loaded here so that the client commands never load the engine.
    const { startServer } = await import('../../http/server.js')
    const server = await startServer({ ...(port !== undefined ? { port } : {}), ...(hostname ? { hostname } : {}) })
    const { env } = ctx.io
    const kind = server.harmonia.storeKind
    const where =
      kind === 'postgres'
        ? 'Postgres (DATABASE_URL)'
        : kind === 'pglite'
          ? env.DATABASE_URL?.startsWith('memory://')
            ? 'PGlite in memory'
            : `PGlite in ${env.HARMONIA_DATA_DIR ?? './.harmonia'}`
          : `${kind} (not persisted)`
    ctx.io.stdout.write(`Harmonia listening on ${server.url} — database: ${where}\n`)
    // startServer leaves signals to its caller: close gracefully (stop accepting, let running handlers settle).
    return new Promise<number>((resolve) => {
      let stopping = false
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.once(signal, () => {
          if (stopping) return
          stopping = true
          ctx.io.stderr.write(`received ${signal}: shutting down\n`)
          server.close().then(
            () => resolve(0),
            (error: unknown) => {
              ctx.io.stderr.write(`shutdown failed: ${String(error)}\n`)
              resolve(1)
            },
          )
        })
      }
    })
  },
}
