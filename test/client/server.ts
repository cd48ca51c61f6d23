import type { Component } from '../../src/components/handler.js'
import { startServer, type RunningServer, type ServerOptions } from '../../src/http/server.js'

/**
 * A real listening Harmonia on a free port with the in-memory store and the given in-process components. No tokens
 * unless asked (HARMONIA_API_TOKENS in the environment is ignored), and a short grace on close so a test that leaves
 * an execution blocked does not wait for it.
 */
export function startTestServer(components: Record<string, Component> = {}, options: Partial<ServerOptions> = {}): Promise<RunningServer> {
  return startServer({
    port: 0,
    hostname: '127.0.0.1',
    tokens: [],
    graceMs: 100,
    ...options,
    harmoniaOptions: { database: 'memory:store', components, ...options.harmoniaOptions },
  })
}
