import { pgEnum } from 'drizzle-orm/pg-core'
import { EXECUTION_STATUSES, TASK_STATUSES } from '../../model/status.js'

/** The status vocabularies of src/model/status.ts as Postgres enums (DESIGN.md "One source of truth for statuses"). */
export const executionStatus = pgEnum('execution_status', EXECUTION_STATUSES)
export const taskStatus = pgEnum('task_status', TASK_STATUSES)
