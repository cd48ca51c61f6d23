import type { Execution } from '../../client/index.js'
import { EXECUTION_STATUSES, type ExecutionStatus } from '../../model/status.js'
import {
  bool,
  JSON_OPTION,
  list,
  PAGE_OPTIONS,
  pageQuery,
  printAnswer,
  printPage,
  str,
  type Command,
  type CommandContext,
} from '../command.js'
import { parseInputPairs } from '../documents.js'
import { formatDuration, formatTime, prettyJson } from '../format.js'
import { EXIT, UsageError } from '../io.js'
import { boardOf, eventLine, renderBoard } from '../watch-view.js'
import { watchExecution } from '../watch.js'

const durationOf = (e: Pick<Execution, 'start_time' | 'end_time'>) =>
  e.start_time && e.end_time ? formatDuration(Date.parse(e.end_time) - Date.parse(e.start_time)) : '-'

/** A command that sends pause/resume/cancel and prints the status it leads to. */
function commandFor(verb: 'cancel' | 'pause' | 'resume', summary: string): Command {
  return {
    name: `executions ${verb}`,
    args: '<execution_id>',
    summary,
    options: JSON_OPTION,
    arity: [1, 1],
    async run(ctx) {
      const client = ctx.client()
      const send = { cancel: client.cancelWorkflow, pause: client.pauseWorkflow, resume: client.resumeWorkflow }[verb]
      const execution = await send(ctx.args[0]!)
      printAnswer(ctx, execution, () => `execution ${execution.execution_id} ${ctx.style.status(execution.status)}`)
      return EXIT.ok
    },
  }
}

function printExecution(ctx: CommandContext, e: Execution): void {
  const lines = [
    `execution ${e.execution_id}`,
    `  workflow:  ${e.workflow_id} v${e.workflow_version}`,
    `  status:    ${ctx.style.status(e.status)}`,
    `  started:   ${formatTime(e.start_time)}`,
    `  ended:     ${formatTime(e.end_time)}${e.end_time ? ` (${durationOf(e)})` : ''}`,
    ...(e.restored_from ? [`  restored from checkpoint ${e.restored_from}`] : []),
    ...(Object.keys(e.input).length > 0 ? [`  input:     ${JSON.stringify(e.input)}`] : []),
    ...(e.output !== null && e.output !== undefined ? [`  output:    ${JSON.stringify(e.output)}`] : []),
    ...(e.error ? [`  error:     ${e.error.message}${e.error.code ? ` (${e.error.code})` : ''}`] : []),
    '',
    // The board's table without its heading (the heading repeats the id and status shown above).
    ...renderBoard(boardOf(e), ctx.style, Date.now()).slice(1),
  ]
  ctx.io.stdout.write(`${lines.join('\n')}\n`)
}

export const executionCommands: Command[] = [
  {
    name: 'executions list',
    args: '',
    summary: 'list executions, newest first',
    options: {
      status: { type: 'string', value: '<status>', help: `only this status (${EXECUTION_STATUSES.join(', ')})` },
      'workflow-id': { type: 'string', value: '<id>', help: 'only executions of this workflow' },
      ...PAGE_OPTIONS,
      ...JSON_OPTION,
    },
    arity: [0, 0],
    async run(ctx) {
      const status = str(ctx.values, 'status')
      if (status !== undefined && !(EXECUTION_STATUSES as readonly string[]).includes(status)) {
        throw new UsageError(`--status must be one of ${EXECUTION_STATUSES.join(', ')}, got "${status}"`)
      }
      const workflowId = str(ctx.values, 'workflow-id')
      const page = await ctx.client().listExecutions({
        ...pageQuery(ctx.values),
        ...(status ? { status: status as ExecutionStatus } : {}),
        ...(workflowId ? { workflow_id: workflowId } : {}),
      })
      printPage(ctx, page, ['ID', 'WORKFLOW', 'STATUS', 'STARTED', 'DURATION'], (e) => [
        e.execution_id,
        `${e.workflow_id} v${e.workflow_version}`,
        { text: e.status, styled: ctx.style.status(e.status) },
        formatTime(e.start_time),
        durationOf(e),
      ])
      return EXIT.ok
    },
  },
  {
    name: 'executions get',
    args: '<execution_id>',
    summary: 'show an execution and its tasks',
    options: JSON_OPTION,
    arity: [1, 1],
    async run(ctx) {
      const execution = await ctx.client().getWorkflowStatus(ctx.args[0]!)
      if (bool(ctx.values, 'json')) ctx.io.stdout.write(`${prettyJson(execution)}\n`)
      else printExecution(ctx, execution)
      return EXIT.ok
    },
  },
  commandFor('cancel', 'cancel an execution (running handlers are aborted)'),
  commandFor('pause', 'pause an execution (running tasks finish, no new task starts)'),
  commandFor('resume', 'resume a paused execution'),
  {
    name: 'executions rerun',
    args: '<execution_id>',
    summary: 'a new execution that reruns the named tasks and their downstream (default: what did not complete)',
    details:
      'The other completed tasks keep their outputs. --input values replace the execution input (a value that parses as JSON is taken as JSON).',
    options: {
      task: { type: 'string', multiple: true, value: '<task_id>', help: 'a task to run again, with its downstream (repeatable)' },
      input: { type: 'string', multiple: true, value: '<key=value>', help: 'an input value of the rerun (repeatable)' },
      ...JSON_OPTION,
    },
    arity: [1, 1],
    async run(ctx) {
      const tasks = list(ctx.values, 'task')
      const pairs = list(ctx.values, 'input')
      const request = { ...(tasks.length > 0 ? { tasks } : {}), ...(pairs.length > 0 ? { input: parseInputPairs(pairs) } : {}) }
      const execution = await ctx.client().rerunExecution(ctx.args[0]!, request)
      printAnswer(
        ctx,
        execution,
        () => `execution ${execution.execution_id} ${ctx.style.status(execution.status)} (rerun of ${ctx.args[0]})`,
      )
      return EXIT.ok
    },
  },
  {
    name: 'executions signal',
    args: '<execution_id> <name>',
    summary: 'send a signal (an approval) to an execution',
    options: { payload: { type: 'string', value: '<json>', help: 'the payload, as JSON (default null)' }, ...JSON_OPTION },
    arity: [2, 2],
    async run(ctx) {
      const raw = str(ctx.values, 'payload')
      let payload: unknown = null
      if (raw !== undefined) {
        try {
          payload = JSON.parse(raw) as unknown
        } catch {
          throw new UsageError(`--payload must be JSON, got ${raw}`)
        }
      }
      const answer = await ctx.client().sendSignal(ctx.args[0]!, ctx.args[1]!, payload)
      printAnswer(ctx, answer, () => `signal ${answer.name} ${answer.delivered ? 'delivered to a waiting task' : 'kept for the next wait'}`)
      return EXIT.ok
    },
  },
  {
    name: 'executions history',
    args: '<execution_id>',
    summary: "an execution's events, checkpoints and metrics",
    options: JSON_OPTION,
    arity: [1, 1],
    async run(ctx) {
      const history = await ctx.client().getExecutionHistory(ctx.args[0]!)
      if (bool(ctx.values, 'json')) {
        ctx.io.stdout.write(`${prettyJson(history)}\n`)
        return EXIT.ok
      }
      const m = history.metrics
      const counts = Object.entries(m.task_counts)
        .filter(([, n]) => n > 0)
        .map(([status, n]) => `${n} ${ctx.style.status(status)}`)
        .join(', ')
      const lines = [
        ...history.events.map((e) => eventLine(e, ctx.style)),
        '',
        `duration ${formatDuration(m.duration_ms)}; ${m.total_tasks} tasks${counts ? ` (${counts})` : ''}; ${m.retries} retries`,
        ...history.checkpoints.map(
          (c) => `checkpoint ${c.checkpoint_id} at ${formatTime(c.created_at)}: ${c.completed_tasks.length} tasks completed`,
        ),
      ]
      ctx.io.stdout.write(`${lines.join('\n')}\n`)
      return EXIT.ok
    },
  },
  {
    name: 'watch',
    args: '<execution_id>',
    summary: 'follow an execution live until it ends (exit 0 completed, 1 failed or canceled)',
    details:
      'On a terminal the task table redraws in place; piped, one line per event is printed. Either way the final statuses are printed at the end.',
    options: { json: { type: 'boolean', help: 'print the events as JSON lines instead' } },
    arity: [1, 1],
    run: (ctx) => watchExecution(ctx, ctx.args[0]!, { json: bool(ctx.values, 'json') }),
  },
]
