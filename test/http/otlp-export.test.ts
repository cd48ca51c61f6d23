import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { trace } from '@opentelemetry/api'
import { afterEach, describe, expect, it } from 'vitest'
import { startServer } from '../../src/http/server.js'
import { traceIdOf } from '../../src/model/trace-context.js'
import { until } from '../support/async.js'

/** OTEL_EXPORTER_OTLP_ENDPOINT set: the server starts the SDK and its spans reach a real OTLP/HTTP receiver. */

afterEach(() => {
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT
  trace.disable()
})

describe('OTLP export', () => {
  it('exports the execution and task spans to the endpoint, flushed when the server closes', async () => {
    const received: { path: string; body: string }[] = []
    const collector = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => (body += chunk.toString()))
      req.on('end', () => {
        received.push({ path: req.url ?? '', body })
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      })
    })
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve))
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`
    const server = await startServer({ port: 0, hostname: '127.0.0.1', tokens: [], harmoniaOptions: { database: 'memory:store' } })
    let executionId = ''
    try {
      const post = (path: string, body: unknown) =>
        fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(
          (r) => r.json() as Promise<Record<string, string>>,
        )
      const wf = await post('/api/workflows', { name: 'exported', tasks: [{ id: 'only', component: 'harmonia', action: 'noop' }] })
      const run = await post('/api/executions', { workflow_id: wf.workflow_id! })
      executionId = run.execution_id!
      await until(async () => (await server.harmonia.getExecution(executionId)).status === 'completed')
    } finally {
      await server.close()
    }
    await until(() => received.some((r) => r.body.includes('execution exported')), 'the exported execution span')
    const traces = received
      .filter((r) => r.path === '/v1/traces')
      .map((r) => r.body)
      .join('\n')
    expect(traces).toContain('task only')
    // OTLP/JSON carries ids as hex: the trace is the execution's.
    expect(traces).toContain(`"traceId":"${traceIdOf(executionId)}"`)
    await new Promise<void>((resolve) => collector.close(() => resolve()))
  })
})
