import { and, asc, eq, isNull, sql } from 'drizzle-orm'
import type { Database } from '../client.js'
import { executionCommands, executions } from '../schema/index.js'
import type { ClusterStore, CommandRecord } from '../store.js'

type Row = typeof executionCommands.$inferSelect

const toRecord = (r: Row): CommandRecord => ({
  command_id: r.commandId,
  execution_id: r.executionId,
  op: r.op,
  args: r.args,
  answer: r.answer ?? null,
})

/** Cross-node commands (services/commands.ts): written by the node a request reached, answered by the owner. */
export function commandQueries(db: Database): ClusterStore['commands'] {
  return {
    async insert({ command_id, execution_id, op, args }) {
      await db.insert(executionCommands).values({ commandId: command_id, executionId: execution_id, op, args })
    },
    async waiting(owner) {
      const rows = await db
        .select({ command: executionCommands })
        .from(executionCommands)
        .innerJoin(executions, eq(executions.executionId, executionCommands.executionId))
        .where(and(isNull(executionCommands.answeredAt), eq(executions.owner, owner)))
        .orderBy(asc(executionCommands.createdAt), asc(executionCommands.commandId))
      return rows.map((r) => toRecord(r.command))
    },
    async answer(commandId, answer) {
      await db
        .update(executionCommands)
        .set({ answer, answeredAt: sql`now()` })
        .where(and(eq(executionCommands.commandId, commandId), isNull(executionCommands.answeredAt)))
    },
    async get(commandId) {
      const [row] = await db.select().from(executionCommands).where(eq(executionCommands.commandId, commandId))
      return row && toRecord(row)
    },
    async withdraw(commandId) {
      const deleted = await db
        .delete(executionCommands)
        .where(and(eq(executionCommands.commandId, commandId), isNull(executionCommands.answeredAt)))
        .returning({ id: executionCommands.commandId })
      return deleted.length > 0
    },
  }
}
