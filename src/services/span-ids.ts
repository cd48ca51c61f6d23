import { randomBytes } from 'node:crypto'

/**
 * An OpenTelemetry SDK `IdGenerator` (structurally: no SDK import here) that gives the span being started the ids
 * Harmonia derived for it (model/trace-context.ts), and random ones to every other span. Install it in the tracer
 * provider — `new BasicTracerProvider({ idGenerator: executionIds, … })`; the SDK Harmonia starts for
 * OTEL_EXPORTER_OTLP_ENDPOINT does — so that a restart or a restore names the same spans again.
 */
export class ExecutionIdGenerator {
  #next: { traceId?: string; spanId: string } | null = null

  /** Runs `start` (which starts one span, synchronously) with these ids for it. */
  with<T>(ids: { traceId?: string; spanId: string }, start: () => T): T {
    this.#next = ids
    try {
      return start()
    } finally {
      this.#next = null
    }
  }

  generateTraceId(): string {
    return this.#next?.traceId ?? randomBytes(16).toString('hex')
  }

  generateSpanId(): string {
    return this.#next?.spanId ?? randomBytes(8).toString('hex')
  }
}

/** The one generator of the process: the tracing service sets ids on it, the tracer provider reads them. */
export const executionIds = new ExecutionIdGenerator()
