import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/cli.js'
import { parseInputPairs } from '../../src/cli/documents.js'
import { createStyle } from '../../src/cli/format.js'
import type { Io } from '../../src/cli/io.js'
import { applyEvent, boardOf, eventLine, renderBoard } from '../../src/cli/watch-view.js'
import type { Execution, ExecutionEvent } from '../../src/client/index.js'
import type { RunningServer } from '../../src/http/server.js'
import { startTestServer } from '../client/server.js'

/* eslint-disable no-control-regex -- the terminal view is asserted by its ANSI escapes */

/** The CLI in-process: the terminal view (which a spawned, piped binary never shows) and the pieces it is made of. */

let server: RunningServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(async () => {
  await server.close()
})

function memoryIo(tty: boolean): Io & { out: () => string; err: () => string } {
  let out = ''
  let err = ''
  return {
    stdout: { write: (s: string) => (out += s), isTTY: tty, columns: 80 },
    stderr: { write: (s: string) => (err += s) },
    env: { HARMONIA_URL: server.url },
    cwd: process.cwd(),
    out: () => out,
    err: () => err,
  }
}

describe('runCli on a terminal', () => {
  it('run --watch redraws the task table in place and ends with the final statuses', async () => {
    const io = memoryIo(true)
    const code = await runCli(['run', 'examples/hello.yaml', '--watch'], io)
    expect(io.err()).toContain('started execution')
    expect(code).toBe(0)
    const out = io.out()
    expect(out).toMatch(/\x1b\[\d+F\x1b\[J/) // cursor up to the first line of the last drawing, clear, draw
    expect(out).toContain('\x1b[32mcompleted\x1b[0m')
    expect(out).not.toMatch(/#\d+\s+workflow_started/) // no per-event lines on a terminal
    // The last drawing (after the last clear) shows every task completed.
    const last = out.slice(out.lastIndexOf('\x1b[J')).replace(/\x1b\[[0-9;]*m/g, '')
    for (const task of ['greet', 'measure', 'shout', 'pause', 'summary'])
      expect(last).toMatch(new RegExp(`^  ${task}\\s+completed\\s+1`, 'm'))
  })

  it('NO_COLOR turns the colors off', async () => {
    const io = memoryIo(true)
    io.env.NO_COLOR = '1'
    expect(await runCli(['workflows', 'list'], io)).toBe(0)
    expect(io.out()).not.toContain('\x1b[')
  })
})

describe('watch view', () => {
  const execution: Execution = {
    execution_id: 'e',
    workflow_id: 'w',
    workflow_version: 1,
    status: 'pending',
    start_time: null,
    end_time: null,
    input: {},
    output: null,
    error: null,
    metadata: {},
    restored_from: null,
    rerun_of: null,
    parent: null,
    task_executions: {
      a: {
        task_id: 'a',
        status: 'pending',
        start_time: null,
        end_time: null,
        input: null,
        output: null,
        error: null,
        retries: 0,
        attempts: 0,
      },
    },
  }
  const event = (
    seq: number,
    type: ExecutionEvent['type'],
    ms: number,
    task_id?: string,
    data: Record<string, unknown> = {},
  ): ExecutionEvent => ({
    seq,
    type,
    execution_id: 'e',
    ...(task_id ? { task_id } : {}),
    timestamp: new Date(Date.UTC(2030, 0, 1, 0, 0, 0, ms)).toISOString(),
    data,
  })

  it('follows attempts, retries and durations from the events', () => {
    const board = boardOf(execution)
    applyEvent(board, event(1, 'workflow_started', 0))
    applyEvent(board, event(2, 'task_started', 0, 'a', { attempt: 1 }))
    applyEvent(board, event(3, 'task_retrying', 100, 'a', { attempt: 1, error: { message: 'flaky' }, delay_ms: 500 }))
    expect(board.tasks.get('a')).toMatchObject({ status: 'retrying', attempts: 1, note: 'flaky (retry in 500ms)' })
    applyEvent(board, event(4, 'task_started', 600, 'a', { attempt: 2 }))
    applyEvent(board, event(5, 'task_completed', 700, 'a', { attempt: 2, output: {} }))
    applyEvent(board, event(6, 'task_skipped', 700, 'b', { reason: 'condition is false' }))
    applyEvent(board, event(7, 'workflow_completed', 750))
    const lines = renderBoard(board, createStyle(false), 0)
    expect(lines[0]).toBe('execution e  completed  750ms')
    expect(lines.slice(1)).toEqual([
      '  TASK  STATUS     ATTEMPTS  DURATION  NOTE',
      '  a     completed  2         700ms',
      '  b     skipped    0         -         condition is false',
    ])
  })

  it("shows a fan-out's element events as its progress, not as its status", () => {
    const board = boardOf(execution)
    applyEvent(board, event(1, 'task_started', 0, 'a', { attempt: 1, input: [1, 2, 3] }))
    applyEvent(board, event(2, 'task_started', 1, 'a', { index: 0, attempt: 1 }))
    applyEvent(board, event(3, 'task_completed', 2, 'a', { index: 0, attempt: 1, output: 1 }))
    applyEvent(board, event(4, 'task_failed', 3, 'a', { index: 1, attempt: 1, error: { message: 'no' } }))
    expect(board.tasks.get('a')).toMatchObject({ status: 'running', attempts: 1, note: 'elements: 1 completed, 1 failed' })
    expect(eventLine(event(3, 'task_completed', 2, 'a', { index: 0, attempt: 1 }), createStyle(false))).toMatch(/task_completed\s+a {2}element 0, attempt 1$/)
  })

  it('cuts the note to the width, keeping the other columns', () => {
    const board = boardOf(execution)
    applyEvent(board, event(1, 'task_failed', 0, 'a', { error: { message: 'x'.repeat(200) } }))
    const lines = renderBoard(board, createStyle(false), 0, 60)
    for (const line of lines.slice(1)) expect(line.length).toBeLessThanOrEqual(60)
    expect(lines[2]).toMatch(/^ {2}a\s+failed\s+0\s+-\s+x+…$/)
  })
})

describe('--input values', () => {
  it('are JSON when they parse, strings otherwise; later pairs win', () => {
    expect(parseInputPairs(['n=3', 'ok=true', 'tags=["a"]', 'name=Ada', 'empty=', 'eq=a=b', 'n=4', 'obj={"k":1}'])).toEqual({
      n: 4,
      ok: true,
      tags: ['a'],
      name: 'Ada',
      empty: '',
      eq: 'a=b',
      obj: { k: 1 },
    })
  })
})
