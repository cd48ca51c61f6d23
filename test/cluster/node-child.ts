/**
 * One Harmonia node of the cluster suites: the HTTP server of src/http/server.ts with recording components, on the
 * Postgres database of DATABASE_URL, named HARMONIA_NODE_ID, on HARMONIA_PORT. Every handler call is appended
 * synchronously (so it survives SIGKILL) to CALL_LOG as `<node> <execution> <task> <index|-> <attempt>`.
 * SIGTERM closes it gracefully (grace HARMONIA_GRACE_MS), as src/main.ts does.
 */
import { appendFileSync } from 'node:fs'
import { setTimeout as delay } from 'node:timers/promises'
import type { HandlerContext } from '../../src/index.js'
import { startServer } from '../../src/http/server.js'
import { createLogger, type LogLevel } from '../../src/logger.js'

const node = process.env.HARMONIA_NODE_ID ?? 'node'
const log = process.env.CALL_LOG!
const note = (ctx: HandlerContext) => appendFileSync(log, `${node} ${ctx.executionId} ${ctx.taskId} ${ctx.index ?? '-'} ${ctx.attempt}\n`)
const value = (input: { deps?: number[] }) => ({ value: 1 + (input.deps ?? []).reduce((a, b) => a + b, 0) })

const server = await startServer({
  logger: createLogger({ level: (process.env.HARMONIA_LOG_LEVEL ?? 'warn') as LogLevel }),
  graceMs: Number(process.env.HARMONIA_GRACE_MS ?? 10_000),
  harmoniaOptions: {
    components: {
      rec: {
        /** 1 + the sum of the upstream values (the outputs prove the inputs), after `ms` of real time. */
        work: async (input: { deps?: number[]; ms?: number }, ctx) => {
          note(ctx)
          if (input.ms) await delay(input.ms, undefined, { signal: ctx.signal })
          return value(input)
        },
        /** Fails its first attempt (retryable), then works. */
        flaky: (input: { deps?: number[] }, ctx) => {
          note(ctx)
          if (ctx.attempt === 1) throw new Error('first attempt fails')
          return value(input)
        },
        /** Sleeps on the engine's durable timer, then works. */
        nap: async (input: { deps?: number[]; ms: number }, ctx) => {
          note(ctx)
          await ctx.sleep(input.ms)
          return value(input)
        },
        /** Its input as output, after `ms` of real time (what the task saw: resolved expressions, state). */
        echo: async (input: { ms?: number } & Record<string, unknown>, ctx) => {
          note(ctx)
          if (input.ms) await delay(input.ms, undefined, { signal: ctx.signal })
          return input
        },
        /** A fan-out element: its item doubled. */
        double: (input: { item: number }, ctx) => {
          note(ctx)
          return input.item * 2
        },
      },
    },
  },
})
process.stdout.write(`NODE_READY ${node} ${server.url}\n`)
process.on('SIGTERM', () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
})
