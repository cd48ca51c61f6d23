import { describe, expect, it } from 'vitest'
import { createLogger } from '../src/logger.js'

const capture = (level: 'debug' | 'info' | 'warn' | 'error' | 'silent', pretty = false) => {
  const lines: string[] = []
  return { lines, logger: createLogger({ level, pretty, write: (line) => lines.push(line) }) }
}

describe('logger (pino)', () => {
  it('writes one JSON line per record: level, time, message, fields; child fields carry over', () => {
    const { lines, logger } = capture('info')
    logger.info('started', { port: 8007 })
    logger.child({ execution_id: 'e1' }).warn('slow', { ms: 12 })
    logger.debug('not shown')
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(records).toEqual([
      { level: 'info', time: expect.stringMatching(/Z$/), message: 'started', port: 8007 },
      { level: 'warn', time: expect.stringMatching(/Z$/), message: 'slow', execution_id: 'e1', ms: 12 },
    ])
  })

  it('a child of a child carries both sets of fields, at every level the logger writes; a child hides secrets too', () => {
    const { lines, logger } = capture('debug')
    const task = logger.child({ execution_id: 'e1', token: 'ch1ld-s3cret' }).child({ task_id: 't1' })
    task.debug('calling', { attempt: 1 })
    task.info('called')
    task.error('failed', { execution_id: 'e2' })
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(records.map((r) => [r.level, r.message, r.execution_id, r.task_id])).toEqual([
      ['debug', 'calling', 'e1', 't1'],
      ['info', 'called', 'e1', 't1'],
      ['error', 'failed', 'e2', 't1'],
    ])
    expect(lines.join('\n')).not.toContain('ch1ld-s3cret')
    const quiet = capture('warn')
    quiet.logger.child({ execution_id: 'e1' }).info('not shown')
    expect(quiet.lines).toEqual([])
  })

  it('never prints a secret, token, signature or authorization header', () => {
    const { lines, logger } = capture('info')
    logger.info('calling', {
      token: 't0ps3cret',
      secret: 's3cret',
      component: { name: 'ergon', secret: 'n3sted' },
      headers: { authorization: 'Bearer abc', 'x-harmonia-signature': 'sha256=deadbeef' },
      request: { headers: { authorization: 'Bearer def' } },
    })
    const text = lines.join('\n')
    for (const leaked of ['t0ps3cret', 's3cret', 'n3sted', 'Bearer abc', 'deadbeef', 'Bearer def']) expect(text).not.toContain(leaked)
    expect(JSON.parse(lines[0]!)).toMatchObject({ component: { name: 'ergon', secret: '[Redacted]' } })
  })

  it('readable single lines when asked (a terminal), still redacted; silent writes nothing', () => {
    const pretty = capture('info', true)
    pretty.logger.warn('commit failed; retrying', { attempt: 2, token: 'abc' })
    expect(pretty.lines).toHaveLength(1)
    expect(pretty.lines[0]).toMatch(/WARN.*commit failed; retrying/)
    expect(pretty.lines[0]).not.toContain('abc')
    const silent = capture('silent')
    silent.logger.error('nothing')
    expect(silent.lines).toEqual([])
  })
})
