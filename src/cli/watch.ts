import type { CommandContext } from './command.js'
import { formatDuration, prettyJson } from './format.js'
import { EXIT } from './io.js'
import { applyEvent, boardOf, eventLine, renderBoard, type Board } from './watch-view.js'

/** How often the terminal view redraws (running durations tick). */
const REDRAW_MS = 200

/**
 * Follows an execution to its end: a live table redrawn in place on a terminal, one line per event when piped,
 * NDJSON events with `json`. Then prints the final task statuses. Exit 0 when it completed, 1 when it failed or was
 * canceled.
 */
export async function watchExecution(ctx: CommandContext, executionId: string, options: { json?: boolean } = {}): Promise<number> {
  const { io, style } = ctx
  const client = ctx.client()
  const tty = io.stdout.isTTY === true && !options.json
  const board = boardOf(await client.getWorkflowStatus(executionId))

  let drawn = 0
  let dirty = true
  const draw = (source: Board) => {
    const lines = renderBoard(source, style, Date.now(), Math.max(20, (io.stdout.columns ?? 120) - 1))
    // Back to the first line of the previous drawing, clear to the end of the screen, draw again.
    io.stdout.write(`${drawn > 0 ? `\x1b[${drawn}F\x1b[J` : ''}${lines.join('\n')}\n`)
    drawn = lines.length
    dirty = false
  }
  const timer = tty
    ? setInterval(() => {
        if (dirty || board.status === 'running') draw(board)
      }, REDRAW_MS)
    : undefined
  if (tty) draw(board)

  try {
    for await (const event of client.watchExecution(executionId)) {
      applyEvent(board, event)
      if (options.json) io.stdout.write(`${JSON.stringify(event)}\n`)
      else if (!tty) io.stdout.write(`${eventLine(event, style)}\n`)
      else dirty = true
    }
  } finally {
    clearInterval(timer)
  }

  // The stored execution is the authority on the final statuses (and covers tasks carried over by a restore).
  const final = await client.getWorkflowStatus(executionId)
  const code = final.status === 'completed' ? EXIT.ok : EXIT.executionFailed
  if (options.json) return code
  const finalBoard = boardOf(final)
  if (tty) draw(finalBoard)
  else io.stdout.write(`\n${renderBoard(finalBoard, style, Date.now()).join('\n')}\n`)
  const took = final.start_time && final.end_time ? ` in ${formatDuration(Date.parse(final.end_time) - Date.parse(final.start_time))}` : ''
  io.stdout.write(`\nexecution ${final.execution_id} ${style.status(final.status)}${took}\n`)
  if (final.status === 'completed' && final.output !== null && final.output !== undefined && !isEmptyObject(final.output)) {
    io.stdout.write(`output: ${prettyJson(final.output)}\n`)
  }
  if (final.error) io.stdout.write(`error: ${final.error.message}${final.error.code ? ` (${final.error.code})` : ''}\n`)
  return code
}

const isEmptyObject = (value: unknown) => typeof value === 'object' && value !== null && Object.keys(value).length === 0
