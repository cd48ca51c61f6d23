import { trace } from '@opentelemetry/api'
import type { Logger } from '../logger.js'
import { VERSION } from '../version.js'
import { executionIds } from './span-ids.js'

/**
 * Starts the OpenTelemetry SDK when OTEL_EXPORTER_OTLP_ENDPOINT is set (API.md: otherwise tracing costs nothing and
 * the SDK is not even loaded): a tracer provider with Harmonia's span ids, batching spans to the OTLP/HTTP exporter,
 * which reads the standard OTEL_EXPORTER_OTLP_* variables itself. Returns the shutdown that flushes what is left.
 */
export async function startOtelSdk(logger: Logger): Promise<(() => Promise<void>) | undefined> {
  if (!process.env.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined
  const [{ BasicTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ])
  const provider = new BasicTracerProvider({
    idGenerator: executionIds,
    resource: resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME || 'harmonia', 'service.version': VERSION }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  })
  trace.setGlobalTracerProvider(provider)
  logger.info('tracing: spans are exported over OTLP/HTTP', { endpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT })
  return async () => {
    await provider.shutdown().catch((error: unknown) => logger.warn('tracing: the last spans could not be exported', { error: String(error) }))
    trace.disable()
  }
}
