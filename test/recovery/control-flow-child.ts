/**
 * The Harmonia server the control-flow crash suite kills: the server of src/main.ts (configured by the same
 * environment: HARMONIA_PORT, HARMONIA_DATA_DIR or DATABASE_URL), on a store that says on stdout what each commit
 * has made durable, so the suite can SIGKILL at a chosen moment:
 *   `TASK <execution_id> <task_id> <status>`           a task row (only when its status changed)
 *   `LINKED <execution_id> <task_id> <child_id>`       a parent task's child id recorded
 *   `CREATED <execution_id> parent <parent_id|none>`   an execution created
 *   `TIMER <execution_id> <key>`                       a durable timer set
 * With CF_HANG_AFTER_LINK=1 no commit after the first one that records a child link is ever written: the process is
 * frozen between recording the child's id and creating the child, and the suite kills it there.
 *   node --import tsx test/recovery/control-flow-child.ts
 */
import { openDatabase } from '../../src/db/client.js'
import { createSqlStore } from '../../src/db/sql.store.js'
import type { Store } from '../../src/db/store.js'
import { startServer } from '../../src/http/server.js'

const print = (line: string) => process.stdout.write(`${line}\n`)
const hangAfterLink = process.env.CF_HANG_AFTER_LINK === '1'
let hung = false
const statuses = new Map<string, string>()
const links = new Set<string>()

const sql = createSqlStore(await openDatabase(process.env.DATABASE_URL || undefined))
const store: Store = {
  ...sql,
  async commit(batch) {
    // Frozen: nothing after the commit that recorded the link becomes durable (that commit itself returns, so a
    // request waiting for it — the start of the parent, when its first transitions and the link share a batch — answers).
    if (hung) await new Promise(() => {})
    await sql.commit(batch)
    let linked = false
    for (const { execution } of batch.creates) print(`CREATED ${execution.execution_id} parent ${execution.parent?.execution_id ?? 'none'}`)
    for (const { execution_id, row } of batch.tasks) {
      const key = `${execution_id}:${row.task_id}`
      if (statuses.get(key) !== row.status) print(`TASK ${execution_id} ${row.task_id} ${row.status}`)
      statuses.set(key, row.status)
      if (row.child_execution_id && !links.has(`${key}:${row.child_execution_id}`)) {
        links.add(`${key}:${row.child_execution_id}`)
        print(`LINKED ${execution_id} ${row.task_id} ${row.child_execution_id}`)
        linked = true
      }
    }
    for (const timer of batch.timersSet) print(`TIMER ${timer.execution_id} ${timer.key}`)
    if (linked && hangAfterLink && !hung) {
      hung = true
      print('HUNG')
    }
  },
}
const server = await startServer({ harmoniaOptions: { store } })
print(`Harmonia listening on ${server.url}`)
