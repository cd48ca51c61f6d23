/**
 * The process the fan-out crash suite kills. Usage:
 *   node --import tsx fan-out-child.ts start  <database> <log>   → creates a 500-element fan-out and starts it
 *   node --import tsx fan-out-child.ts resume <database> <log>   → recovers it and prints the outcome
 * Every element call is appended synchronously (it survives SIGKILL) to <log>; each committed element completion is
 * printed as `DONE <index>`, so the parent kills the process in the middle of the fan-out.
 */
import { appendFileSync } from 'node:fs'
import { createHarmonia } from '../../src/index.js'

const [mode, database, log] = process.argv.slice(2) as ['start' | 'resume', string, string]
const print = (line: string) => process.stdout.write(line + '\n')

const harmonia = await createHarmonia({
  database,
  strictComponents: false,
  components: {
    fan: {
      double: async (input: { n: number }, ctx) => {
        appendFileSync(log, `${ctx.index} ${ctx.attempt}\n`)
        await new Promise((resolve) => setTimeout(resolve, 2))
        return { v: input.n * 2 }
      },
    },
  },
})

if (mode === 'start') {
  const workflow = await harmonia.createWorkflow({
    name: 'fan-out crash',
    tasks: [
      {
        id: 'each',
        component: 'fan',
        action: 'double',
        for_each: '${input.list}',
        for_each_concurrency: 8,
        input: { n: '${item}' },
      },
    ],
  })
  const list = Array.from({ length: 500 }, (_, i) => i)
  const execution = await harmonia.startExecution({ workflow_id: workflow.workflow_id, input: { list } })
  print(`EXECUTION ${execution.execution_id}`)
  await harmonia.subscribe(execution.execution_id, (event) => {
    if (event.type === 'task_completed' && event.data?.index !== undefined) print(`DONE ${Number(event.data.index)}`)
  })
  setInterval(() => {}, 1 << 30)
} else {
  const { items } = await harmonia.listExecutions({ limit: 1 })
  const done = await harmonia.waitForExecution(items[0]!.execution_id)
  const events = await harmonia.getEvents(done.execution_id)
  print(`RESULT ${JSON.stringify({ execution: done, events })}`)
  await harmonia.close()
}
