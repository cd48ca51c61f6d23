import { JSON_OPTION, printAnswer, str, type Command } from '../command.js'
import type { StateRecord } from '../../client/index.js'
import { jsonObjectOption, loadObjectOrStdin } from '../documents.js'
import { formatTime, prettyJson } from '../format.js'
import { EXIT, UsageError } from '../io.js'

/** `harmonia state …` (API.md "State and checkpoints"): an execution's state, which its expressions read as `state`. */

const stateLines = (r: StateRecord) => [`state of execution ${r.execution_id} (updated ${formatTime(r.updated_at)})`, prettyJson(r.state)]

export const stateCommands: Command[] = [
  {
    name: 'state get',
    args: '<execution_id>',
    summary: "show an execution's state",
    options: JSON_OPTION,
    arity: [1, 1],
    async run(ctx) {
      const record = await ctx.stateClient().loadState(ctx.args[0]!)
      printAnswer(ctx, record, () => stateLines(record))
      return EXIT.ok
    },
  },
  {
    name: 'state set',
    args: '<execution_id> [file|-]',
    summary: "replace an execution's state with an object from a file, standard input (-) or --data",
    details: 'The whole state is replaced (not merged); expressions of tasks that start afterwards see it, and checkpoints keep it.',
    options: { data: { type: 'string', value: '<json>', help: 'the state as a JSON object, instead of a file' }, ...JSON_OPTION },
    arity: [1, 2],
    async run(ctx) {
      const [executionId, file] = ctx.args as [string, string | undefined]
      const data = str(ctx.values, 'data')
      if (data !== undefined && file !== undefined) throw new UsageError('give the state as a file or with --data, not both')
      if (data === undefined && file === undefined) throw new UsageError('missing the state: a file, - (standard input) or --data <json>')
      const state = data !== undefined ? jsonObjectOption(data, 'data', 'the state') : await loadObjectOrStdin(file!, ctx.io, 'the state')
      const record = await ctx.stateClient().saveState(executionId, state)
      printAnswer(ctx, record, () => stateLines(record))
      return EXIT.ok
    },
  },
]
