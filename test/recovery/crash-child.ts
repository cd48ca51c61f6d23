/**
 * The process the crash suite kills. Usage:
 *   node --import tsx crash-child.ts start  <database> <log> <scenario>   → creates the 30-task workflow, starts it
 *   node --import tsx crash-child.ts resume <database> <log> <scenario>   → recovers and runs to the end
 * Every handler invocation is appended (synchronously, so it survives SIGKILL) to <log>. Committed events are printed
 * on stdout as `EVENT {json}` lines; the parent kills the process when it sees the moment it waits for.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs'
import { createHarmonia, type HandlerContext } from '../../src/index.js'
import { crashWorkflow, type Scenario } from './crash-workflow.js'

const [mode, database, log, scenario] = process.argv.slice(2) as ['start' | 'resume', string, string, Scenario]

const invocations = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [])
const note = (ctx: HandlerContext) => appendFileSync(log, `${ctx.taskId} ${ctx.attempt} ${ctx.idempotencyKey}\n`)
const print = (line: string) => process.stdout.write(line + '\n')

// Handlers below use `harmonia`; they only run once it is bound.
const harmonia: Awaited<ReturnType<typeof createHarmonia>> = await createHarmonia({
  database,
  strictComponents: false,
  components: {
    crash: {
      /** value = 1 + the sum of the upstream values: the outputs prove every input was right. */
      work: (input: { deps: number[] }, ctx) => {
        note(ctx)
        return { value: 1 + input.deps.reduce((a, b) => a + b, 0) }
      },
      /** The first invocation never returns (the process is killed inside it); the next one works. */
      hang_once: (input: { deps: number[] }, ctx) => {
        const before = invocations().filter((l) => l.startsWith(`${ctx.taskId} `)).length
        note(ctx)
        if (before === 0) {
          print('IN_HANDLER')
          return new Promise(() => {})
        }
        return { value: 1 + input.deps.reduce((a, b) => a + b, 0) }
      },
      /** Fails its first attempt (retryable), then works. */
      fail_once: (input: { deps: number[] }, ctx) => {
        note(ctx)
        if (ctx.attempt === 1) throw new Error('first attempt fails')
        return { value: 1 + input.deps.reduce((a, b) => a + b, 0) }
      },
      /** Pauses its own execution (so nothing new starts), then works: the parent kills the paused process. */
      pause_self: async (input: { deps: number[] }, ctx) => {
        note(ctx)
        const paused = await harmonia.pauseExecution(ctx.executionId)
        setTimeout(() => print(`PAUSED ${paused.status}`), 200)
        return { value: 1 + input.deps.reduce((a, b) => a + b, 0) }
      },
      /** Sleeps on the engine's durable timer, then works. */
      nap: async (input: { deps: number[]; ms: number }, ctx) => {
        note(ctx)
        await ctx.sleep(input.ms)
        return { value: 1 + input.deps.reduce((a, b) => a + b, 0) }
      },
    },
  },
})

if (mode === 'start') {
  const workflow = await harmonia.createWorkflow(crashWorkflow(scenario))
  const execution = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
  print(`EXECUTION ${execution.execution_id}`)
  await harmonia.subscribe(execution.execution_id, (event) => print(`EVENT ${JSON.stringify(event)}`))
  // Wait to be killed (the interval keeps the process alive while the execution is idle, e.g. paused).
  setInterval(() => {}, 1 << 30)
  await new Promise(() => {})
} else {
  const { items } = await harmonia.listExecutions({ limit: 10 })
  const target = items[0]!
  print(`RECOVERED ${target.execution_id} ${target.status}`)
  if (target.status === 'paused') {
    // Give a wrongly resumed execution every chance to move, then check it did not.
    await new Promise((r) => setTimeout(r, 300))
    const still = await harmonia.getExecution(target.execution_id)
    print(`STILL ${still.status}`)
    await harmonia.resumeExecution(target.execution_id)
  }
  const done = await harmonia.waitForExecution(target.execution_id)
  print(`DONE ${JSON.stringify({ ...done, events: await harmonia.getEvents(target.execution_id) })}`)
  await harmonia.close()
  process.exit(0)
}
