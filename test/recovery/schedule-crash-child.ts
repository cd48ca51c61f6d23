/**
 * The process the schedule crash test kills. Usage:
 *   node --import tsx schedule-crash-child.ts first  <database>   → creates an every-second schedule; runs until killed
 *   node --import tsx schedule-crash-child.ts second <database>   → runs the schedule for 2.5 s, closes, exits 0
 * Each scheduled execution's task prints `RAN <execution_id>` on stdout.
 */
import { createHarmonia } from '../../src/index.js'

const [mode, database] = process.argv.slice(2) as ['first' | 'second', string]
const print = (line: string) => process.stdout.write(line + '\n')

const harmonia = await createHarmonia({
  database,
  strictComponents: false,
  components: { s: { work: (_: unknown, ctx) => (print(`RAN ${ctx.executionId}`), {}) } },
})

if (mode === 'first') {
  const workflow = await harmonia.createWorkflow({
    name: 'every second',
    tasks: [{ id: 'w', component: 's', action: 'work' }],
    schedules: [{ cron: '* * * * * *', catch_up: 'all' }],
  })
  print(`WORKFLOW ${workflow.workflow_id}`)
  setInterval(() => {}, 1 << 30)
  await new Promise(() => {})
} else {
  print('STARTED')
  await new Promise((r) => setTimeout(r, 2500))
  await harmonia.close()
  print('CLOSED')
  process.exit(0)
}
