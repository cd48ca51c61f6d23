import { describe, expect, it } from 'vitest'
import { createComponentRegistry } from '../../src/components/registry.js'
import { TerminalTaskError, toTaskFailure } from '../../src/errors.js'

const newRegistry = () => createComponentRegistry({ remote: { now: Date.now, publicUrl: () => undefined } })

describe('component registry', () => {
  it('resolves registered actions; registering again extends or replaces actions', () => {
    const registry = newRegistry()
    const first = () => 1
    const second = () => 2
    registry.register('ergon', { execute_command: first })
    registry.register('ergon', { status: second })
    expect(registry.resolve('ergon', 'execute_command')).toBe(first)
    expect(registry.resolve('ergon', 'status')).toBe(second)
    registry.register('ergon', { status: first })
    expect(registry.resolve('ergon', 'status')).toBe(first)
  })

  it('check answers ok, unknown_component or unknown_action (what validation reports)', () => {
    const registry = newRegistry()
    registry.register('prometheus', { analyze_results: () => ({}) })
    expect(registry.check('prometheus', 'analyze_results')).toBe('ok')
    expect(registry.check('prometheus', 'forecast')).toBe('unknown_action')
    expect(registry.check('rhetor', 'chat')).toBe('unknown_component')
    expect(registry.check('__proto__', 'toString')).toBe('unknown_component')
  })

  it('resolving what is missing fails without retry, naming what exists', () => {
    const registry = newRegistry()
    registry.register('prometheus', { analyze_results: () => ({}), summarize: () => ({}) })
    let missingAction: unknown
    try {
      registry.resolve('prometheus', 'forecast')
    } catch (error) {
      missingAction = error
    }
    expect(missingAction).toBeInstanceOf(TerminalTaskError)
    expect(toTaskFailure(missingAction)).toEqual({
      message: 'component "prometheus" has no action "forecast" (it has: analyze_results, summarize)',
      code: 'unknown_action',
      retryable: false,
    })
    expect(() => registry.resolve('rhetor', 'chat')).toThrow(/unknown component "rhetor"/)
  })

  it('refuses an empty name and actions that are not functions', () => {
    const registry = newRegistry()
    expect(() => registry.register('', { a: () => 1 })).toThrow(TypeError)
    expect(() => registry.register('x', { a: 'not a function' as never })).toThrow(/action a is not a function/)
  })
})
