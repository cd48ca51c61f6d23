/**
 * The process the webhook crash suite kills. Usage:
 *   node --import tsx webhook-child.ts start  <database> <receiver url>  → subscribes the receiver, runs a workflow
 *   node --import tsx webhook-child.ts resume <database>                 → starts again: pending deliveries resume
 * Prints `READY <execution_id>` once the execution is completed (start), `UP` once started (resume); then idles until
 * the parent kills it.
 */
import { createHarmonia } from '../../src/index.js'

const [mode, database, receiverUrl] = process.argv.slice(2) as ['start' | 'resume', string, string | undefined]
export const SECRET = 'crash-suite-webhook-secret'
const print = (line: string) => process.stdout.write(line + '\n')

const harmonia = await createHarmonia({ database, secretKey: Buffer.alloc(32, 3).toString('base64') })

if (mode === 'start') {
  const tasks = Array.from({ length: 5 }, (_, i) => ({
    id: `t${i}`,
    component: 'harmonia',
    action: 'echo',
    input: { i },
    depends_on: i === 0 ? [] : [`t${i - 1}`],
  }))
  const workflow = await harmonia.createWorkflow({ name: 'webhook crash', tasks })
  await harmonia.createSubscription({ url: receiverUrl, workflow_id: workflow.workflow_id, secret: SECRET })
  const execution = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
  await harmonia.waitForExecution(execution.execution_id)
  print(`READY ${execution.execution_id}`)
} else {
  print('UP')
}
// Idle until killed: the delivery worker keeps retrying on its timers.
setInterval(() => {}, 1 << 30)
