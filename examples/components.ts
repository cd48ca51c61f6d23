/**
 * In-process handlers for the two Tekton components the seed's client examples call: `ergon.execute_command` and
 * `prometheus.analyze_results`. This ergon only understands `echo ...` (Harmonia never runs shell commands).
 * `examples/serve.ts` starts a server with them; the tests register them the same way.
 */
import type { Component } from '../src/index.js'

export const ergon: Component = {
  execute_command: (input: { command?: unknown }) => {
    const command = typeof input.command === 'string' ? input.command : JSON.stringify(input.command ?? '')
    const match = /^echo (.*)$/s.exec(command)
    if (!match) throw new Error(`this example's ergon only runs echo, not: ${command}`)
    return { result: match[1], exit_code: 0 }
  },
}

export const prometheus: Component = {
  analyze_results: (input: { data?: unknown }) => {
    const data = typeof input.data === 'string' ? input.data : JSON.stringify(input.data ?? '')
    return { data, words: data.split(/\s+/).filter(Boolean).length, length: data.length }
  },
}

export const exampleComponents: Record<string, Component> = { ergon, prometheus }
