/**
 * `npm start`: Harmonia's server on HARMONIA_PORT (default 8007), on PGlite in HARMONIA_DATA_DIR (default ./.harmonia)
 * or on Postgres with DATABASE_URL. SIGTERM/SIGINT close it gracefully.
 */
import { createLogger } from './logger.js'
import { startServer } from './http/server.js'

const logger = createLogger(process.env.HARMONIA_LOG_LEVEL ? {} : { level: 'info' })
// A configuration that cannot be used (a malformed HARMONIA_CONFIG, a bad HARMONIA_RETENTION_DAYS) stops the start with
// its message alone: the operator needs the file, line and field, not a stack trace.
const server = await startServer({ logger, graceMs: Number(process.env.HARMONIA_GRACE_MS ?? 10_000) }).catch((error: unknown) => {
  process.stderr.write(`harmonia: cannot start: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
const where = process.env.DATABASE_URL ? 'Postgres (DATABASE_URL)' : `PGlite in ${process.env.HARMONIA_DATA_DIR ?? './.harmonia'}`
logger.info(`harmonia listening on ${server.url} (database: ${server.harmonia.storeKind}, ${where})`)
process.stdout.write(`Harmonia listening on ${server.url} — database: ${where}\n`)

let stopping = false
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return
    stopping = true
    logger.info(`received ${signal}: shutting down`)
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error: String(error) })
        process.exit(1)
      },
    )
  })
}
