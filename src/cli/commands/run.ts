import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { bool, int, list, str, WATCH_OPTION, type Command } from '../command.js'
import { loadObject, parseInputPairs } from '../documents.js'
import { prettyJson } from '../format.js'
import { EXIT, UsageError } from '../io.js'
import { watchExecution } from '../watch.js'
import { applyWorkflowFile } from './workflows.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const isFile = (path: string) =>
  stat(path).then(
    (s) => s.isFile(),
    () => false,
  )

export const runCommand: Command = {
  name: 'run',
  args: '<file|workflow_id>',
  summary: 'start an execution of a workflow file (applied first) or of a stored workflow',
  details:
    'Input values: --input-file is read first, then each --input key=value on top; a value that parses as JSON is ' +
    'taken as JSON (n=3, ok=true, tags=["a"]), anything else as a string. Without --watch the execution id is printed.',
  options: {
    input: { type: 'string', multiple: true, value: '<key=value>', help: 'an input value (repeatable)' },
    'input-file': { type: 'string', value: '<file>', help: 'input values from a JSON or YAML object' },
    version: { type: 'string', value: '<n>', help: 'run this version of a stored workflow instead of the latest' },
    ...WATCH_OPTION,
    json: { type: 'boolean', help: 'print the created execution as JSON (with --watch: the events as JSON lines)' },
  },
  arity: [1, 1],
  async run(ctx) {
    const target = ctx.args[0]!
    const inputFile = str(ctx.values, 'input-file')
    const input = {
      ...(inputFile ? await loadObject(inputFile, ctx.io.cwd, 'the input') : {}),
      ...parseInputPairs(list(ctx.values, 'input')),
    }
    const version = int(ctx.values, 'version', 1)
    const json = bool(ctx.values, 'json')

    let workflowId: string
    if (await isFile(resolve(ctx.io.cwd, target))) {
      if (version !== undefined) throw new UsageError('--version applies to a stored workflow id, not to a file', 'run')
      const { workflow, created } = await applyWorkflowFile(ctx, target)
      ctx.io.stderr.write(`${created ? 'created' : 'updated'} workflow ${workflow.workflow_id} (${workflow.name} v${workflow.version})\n`)
      workflowId = workflow.workflow_id
    } else if (UUID.test(target)) {
      workflowId = target
    } else {
      throw new UsageError(`${target}: no such file, and not a workflow id`, 'run')
    }

    const client = ctx.client()
    const execution = await client.executeWorkflow({
      workflow_id: workflowId,
      input,
      ...(version !== undefined ? { version } : {}),
    })
    if (!bool(ctx.values, 'watch')) {
      ctx.io.stdout.write(json ? `${prettyJson(execution)}\n` : `${execution.execution_id}\n`)
      return EXIT.ok
    }
    ctx.io.stderr.write(`started execution ${execution.execution_id}\n`)
    return watchExecution(ctx, execution.execution_id, { json })
  },
}
