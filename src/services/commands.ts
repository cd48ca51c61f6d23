import type { Supervisor } from '../actors/supervisor.js'
import type { ClusterStore } from '../db/store.js'
import { ForwardedError, HarmoniaError, UnavailableError, ValidationError, type FieldError } from '../errors.js'
import type { Logger } from '../logger.js'
import { createIntervals } from './intervals.js'
import { uuidv7 } from '../model/ids.js'
import type { Ownership } from './ownership.js'

/** The channels of cross-node commands: "a command waits" (payload: the owner) and "a command was answered". */
export const COMMANDS_CHANNEL = 'harmonia_commands'
export const ANSWERS_CHANNEL = 'harmonia_answers'

/** A command's answer as stored: its value, or the error the owner raised (code, message, fields). */
type Answer = { ok: true; value: unknown } | { ok: false; error: { code: HarmoniaError['code']; message: string; errors?: FieldError[] } }

/** What the owner runs for a command: the same function the node that holds the execution runs for a local request. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each op's handler declares its own args
export type CommandHandler = (executionId: string, args: any) => Promise<unknown>

/**
 * Commands for an execution another node holds (API.md "Several nodes": any node accepts any request). The node the
 * request reached writes the command as a row and NOTIFYs; the owner applies it with the very handler a local request
 * runs, after which the effect is committed, and writes the answer; the caller returns that answer (value or error)
 * as its own. The rows are the truth and polling guarantees progress, so a lost notification only delays: a command
 * waits out its owner's death too (the next owner applies it after the takeover). A caller that gives up withdraws
 * its command first, so a command is applied once or not at all.
 */
export function createCommands(
  deps: { cluster: ClusterStore; supervisor: Supervisor; ownership: Ownership; logger: Logger; nodeId: string },
  options: { leaseSeconds: number; pollMs?: number; notifications?: boolean },
) {
  const { cluster, supervisor, logger } = deps
  const handlers = new Map<string, CommandHandler>()
  const answered = new Map<string, () => void>()
  const intervals = createIntervals()
  const unlistens: Array<() => Promise<void>> = []
  const pollMs = options.pollMs ?? 500
  let serving: Promise<void> | null = null
  let again = false

  async function apply(executionId: string, op: string, args: unknown): Promise<Answer> {
    const handler = handlers.get(op)
    if (!handler) return { ok: false, error: { code: 'internal', message: `unknown command ${op}` } }
    try {
      return { ok: true, value: (await handler(executionId, args)) ?? null }
    } catch (error) {
      if (!(error instanceof HarmoniaError)) throw error
      return {
        ok: false,
        error: { code: error.code, message: error.message, ...(error instanceof ValidationError ? { errors: error.errors } : {}) },
      }
    }
  }

  /** Applies the commands waiting for executions held here. */
  function serve(): Promise<void> {
    if (serving) {
      again = true
      return serving
    }
    serving = (async () => {
      try {
        for (const command of await cluster.commands.waiting(deps.nodeId)) {
          // Held here in the store but not restored yet (a claim in progress): the next round takes it.
          if (!supervisor.isLive(command.execution_id)) continue
          const answer = await apply(command.execution_id, command.op, command.args)
          await cluster.commands.answer(command.command_id, answer)
          await cluster.notify(ANSWERS_CHANNEL, command.command_id)
        }
      } catch (error) {
        logger.warn('serving commands failed', { error: String(error) })
      } finally {
        serving = null
      }
      if (again) {
        again = false
        await serve()
      }
    })()
    return serving
  }

  function fromAnswer(answer: Answer): unknown {
    if (answer.ok) return answer.value
    const { code, message, errors } = answer.error
    if (code === 'validation' && errors) throw new ValidationError(errors)
    throw new ForwardedError(code, message)
  }

  /** Resolves when the command is answered (a notification or the poll), or with undefined at the deadline. */
  async function awaitAnswer(commandId: string, deadline: number): Promise<Answer | undefined> {
    for (;;) {
      const row = await cluster.commands.get(commandId)
      if (row?.answer) return row.answer as Answer
      if (Date.now() >= deadline) return undefined
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(pollMs, Math.max(1, deadline - Date.now())))
        function done() {
          clearTimeout(timer)
          answered.delete(commandId)
          resolve()
        }
        answered.set(commandId, done)
      })
    }
  }

  return {
    /** Registers what the owner runs for `op`. */
    handle(op: string, handler: CommandHandler): void {
      handlers.set(op, handler)
    },
    /**
     * Runs `op` on whichever node holds the execution: here when it is live here (or nobody holds it and this node
     * can claim it), else through the owner. Answers as the owner's handler did.
     */
    async run(executionId: string, op: string, args: unknown): Promise<unknown> {
      if (!supervisor.isLive(executionId)) await deps.ownership.claimOne(executionId).catch(() => false)
      if (supervisor.isLive(executionId)) return fromAnswer(await apply(executionId, op, args))
      const commandId = uuidv7()
      await cluster.commands.insert({ command_id: commandId, execution_id: executionId, op, args })
      await cluster.notify(COMMANDS_CHANNEL, '')
      // Long enough for a takeover (lease + the claim's poll) if the owner died with the command waiting.
      const deadline = Date.now() + options.leaseSeconds * 2000 + 5000
      const answer = await awaitAnswer(commandId, deadline)
      if (answer) return fromAnswer(answer)
      if (!(await cluster.commands.withdraw(commandId))) {
        const row = await cluster.commands.get(commandId)
        if (row?.answer) return fromAnswer(row.answer as Answer)
      }
      throw new UnavailableError(`the node that holds execution ${executionId} did not answer`)
    },
    async start(): Promise<void> {
      if (options.notifications ?? true) {
        unlistens.push(
          await cluster.listen(
            COMMANDS_CHANNEL,
            () => void serve(),
            () => void serve(),
          ),
        )
        unlistens.push(await cluster.listen(ANSWERS_CHANNEL, (commandId) => answered.get(commandId)?.()))
      }
      intervals.every(pollMs, () => void serve())
    },
    /** Serves what is waiting now (after a claim restored executions that may have commands). */
    serve,
    async stop(): Promise<void> {
      intervals.clear()
      await serving
      for (const unlisten of unlistens) await unlisten().catch(() => {})
    },
  }
}
export type Commands = ReturnType<typeof createCommands>
