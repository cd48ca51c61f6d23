/** Signals of an execution as stored: per name, whether a task waited for it and each payload received. */
export type SignalEntry = { payload: unknown; received_at: string; consumed_by: string | null }
export type SignalDoc = Record<string, { waited: boolean; received: SignalEntry[] }>

/** `GET /api/executions/{id}/signals`: one entry per name waited for or signalled (API.md "Signals and approvals"). */
export type SignalSummary = { name: string; waiting: boolean; received: unknown[] }

/** `POST /api/executions/{id}/signals/{name}`: whether a waiting task took it at once. */
export type SignalAnswer = { execution_id: string; name: string; delivered: boolean }
