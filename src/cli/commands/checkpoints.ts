import type { Checkpoint } from '../../client/index.js'
import { bool, JSON_OPTION, LIMIT_OPTIONS, pageQuery, printAnswer, printPage, str, WATCH_OPTION, type Command } from '../command.js'
import { formatTable, formatTime } from '../format.js'
import { EXIT } from '../io.js'
import { watchExecution } from '../watch.js'

/** `harmonia checkpoints …` (API.md "State and checkpoints"): snapshots of an execution, restored as new executions. */

const summaryOf = (c: Checkpoint) =>
  `${c.workflow_status}, ${c.completed_tasks.length} of ${Object.keys(c.task_statuses).length} tasks completed`

export const checkpointCommands: Command[] = [
  {
    name: 'checkpoints create',
    args: '<execution_id>',
    summary: "checkpoint an execution: its task statuses, completed tasks' outputs and state",
    options: JSON_OPTION,
    arity: [1, 1],
    async run(ctx) {
      const c = await ctx.stateClient().createCheckpoint(ctx.args[0]!)
      printAnswer(ctx, c, () => `created checkpoint ${c.checkpoint_id} of execution ${c.execution_id} (${summaryOf(c)})`)
      return EXIT.ok
    },
  },
  {
    name: 'checkpoints list',
    args: '',
    summary: 'list checkpoints, of every execution or of one',
    options: {
      execution: { type: 'string', value: '<execution_id>', help: 'only the checkpoints of this execution' },
      ...LIMIT_OPTIONS,
      ...JSON_OPTION,
    },
    arity: [0, 0],
    async run(ctx) {
      const execution = str(ctx.values, 'execution')
      const page = await ctx.stateClient().listCheckpoints({ ...pageQuery(ctx.values), ...(execution ? { execution_id: execution } : {}) })
      printPage(ctx, page, ['ID', 'EXECUTION', 'STATUS', 'COMPLETED', 'CREATED'], (c) => [
        c.checkpoint_id,
        c.execution_id,
        { text: c.workflow_status, styled: ctx.style.status(c.workflow_status) },
        `${c.completed_tasks.length}/${Object.keys(c.task_statuses).length}`,
        formatTime(c.created_at),
      ])
      return EXIT.ok
    },
  },
  {
    name: 'checkpoints get',
    args: '<checkpoint_id>',
    summary: 'show a checkpoint: task statuses and saved state',
    options: JSON_OPTION,
    arity: [1, 1],
    async run(ctx) {
      const c = await ctx.stateClient().getCheckpoint(ctx.args[0]!)
      printAnswer(ctx, c, () => [
        `checkpoint ${c.checkpoint_id}`,
        `  execution: ${c.execution_id}`,
        `  status:    ${ctx.style.status(c.workflow_status)}`,
        `  created:   ${formatTime(c.created_at)}`,
        `  state:     ${JSON.stringify(c.state_data)}`,
        '',
        ...formatTable(
          ['TASK', 'STATUS'],
          Object.entries(c.task_statuses).map(([task, status]) => [task, { text: status, styled: ctx.style.status(status) }]),
          ctx.style,
          '  ',
        ),
      ])
      return EXIT.ok
    },
  },
  {
    name: 'checkpoints restore',
    args: '<checkpoint_id>',
    summary: "start a new execution from a checkpoint (completed tasks keep their outputs); prints the new execution's id",
    options: {
      ...WATCH_OPTION,
      json: { type: 'boolean', help: 'print the new execution as JSON (with --watch: the events as JSON lines)' },
    },
    arity: [1, 1],
    async run(ctx) {
      const execution = await ctx.client().restoreFromCheckpoint(ctx.args[0]!)
      if (!bool(ctx.values, 'watch')) {
        printAnswer(ctx, execution, () => execution.execution_id)
        return EXIT.ok
      }
      ctx.io.stderr.write(`restored checkpoint ${ctx.args[0]} as execution ${execution.execution_id}\n`)
      return watchExecution(ctx, execution.execution_id, { json: bool(ctx.values, 'json') })
    },
  },
]
