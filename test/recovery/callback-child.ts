/**
 * The Harmonia server the callback crash suite kills: the server src/main.ts starts (startServer, configured by the
 * same environment: HARMONIA_PORT, HARMONIA_DATA_DIR or DATABASE_URL, …), on a store that also prints
 * `AWAITING <execution_id> <task_id> <attempt>` on stdout once a commit has stored that an attempt waits for its
 * callback. That is the moment the suite waits for before the SIGKILL: killed earlier, between the component's 202
 * and that commit, Harmonia cannot know the component answered and calls it again after the restart (at least once).
 *   node --import tsx test/recovery/callback-child.ts
 */
import { openDatabase } from '../../src/db/client.js'
import { createSqlStore } from '../../src/db/sql.store.js'
import type { Store } from '../../src/db/store.js'
import { startServer } from '../../src/http/server.js'

const sql = createSqlStore(await openDatabase(process.env.DATABASE_URL || undefined))
const store: Store = {
  ...sql,
  async commit(batch) {
    await sql.commit(batch)
    for (const { execution_id, row } of batch.tasks) {
      if (row.awaiting) process.stdout.write(`AWAITING ${execution_id} ${row.task_id} ${row.awaiting.attempt}\n`)
    }
  },
}
const server = await startServer({ harmoniaOptions: { store } })
process.stdout.write(`Harmonia listening on ${server.url}\n`)
