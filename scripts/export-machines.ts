/**
 * Writes each machine's definition as JSON (machines/<id>.json) for viewing in Stately's tools
 * (paste into stately.ai/viz or load with @statelyai/inspect).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { executionMachine } from '../src/machines/execution.machine.js'
import { taskMachine } from '../src/machines/task.machine.js'

const out = process.argv[2] ?? 'machines'
mkdirSync(out, { recursive: true })
for (const machine of [taskMachine, executionMachine]) {
  const file = join(out, `${machine.id}.machine.json`)
  writeFileSync(file, JSON.stringify(machine.toJSON(), null, 2) + '\n')
  console.log(`wrote ${file} (${Object.keys(machine.root.states).join(', ')})`)
}
