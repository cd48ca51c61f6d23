import { summarize } from '../actors/signals.js'
import { InvalidTransitionError, ValidationError } from '../errors.js'
import { assertStorable, isPlainObject } from '../json.js'
import type { SignalAnswer, SignalSummary } from '../model/signals.js'
import { isTerminalExecutionStatus } from '../model/status.js'
import type { ServiceContext } from './context.js'
import type { ExecutionService } from './executions.js'

const NAME = /^[^\s/]{1,200}$/

function checkName(name: string): void {
  if (!NAME.test(name)) throw new ValidationError([{ path: 'name', message: 'a signal name is 1 to 200 characters, without spaces or /' }])
}

/** Signals (API.md "Signals and approvals"): sent to an execution, kept until a `wait_for_signal` task takes them. */
export function createSignalService(ctx: ServiceContext, executions: ExecutionService) {
  const { supervisor, cluster } = ctx
  cluster?.handle('signal', (executionId, args: { name: string; payload: unknown }) =>
    supervisor.signal(executionId, args.name, args.payload),
  )

  /** Here when live here, else through the node that holds it; undefined when it takes no signal now. */
  async function deliver(executionId: string, name: string, payload: unknown): Promise<boolean | undefined> {
    if (!cluster || supervisor.isLive(executionId)) return supervisor.signal(executionId, name, payload)
    const answer = await cluster.run(executionId, 'signal', { name, payload })
    return typeof answer === 'boolean' ? answer : undefined
  }

  return {
    /**
     * Sends `name` with `payload` to the execution: `delivered` when a waiting task took it at once, false when it is
     * kept for the first later wait. 404 unknown execution, 409 finished one.
     */
    async sendSignal(executionId: string, name: string, body: unknown = {}): Promise<SignalAnswer> {
      checkName(name)
      const execution = await executions.get(executionId)
      if (body !== undefined && !isPlainObject(body)) throw new ValidationError([{ path: '', message: 'the body must be a JSON object' }])
      const payload = (body as { payload?: unknown } | undefined)?.payload ?? null
      assertStorable(payload, 'payload')
      const delivered = isTerminalExecutionStatus(execution.status) ? undefined : await deliver(executionId, name, payload)
      if (delivered === undefined) throw new InvalidTransitionError('execution', executionId, `signal ${name}`, execution.status)
      return { execution_id: executionId, name, delivered }
    },

    /** One entry per name waited for or signalled, kept after its wait ends, with the payloads in arrival order. */
    async listSignals(executionId: string): Promise<SignalSummary[]> {
      await executions.get(executionId)
      const live = ctx.supervisor.signals(executionId)
      if (live) return summarize(live.doc, live.waiting)
      return summarize((await ctx.store.signals.get(executionId)) ?? {}, new Set())
    },
  }
}
export type SignalsApi = ReturnType<typeof createSignalService>
