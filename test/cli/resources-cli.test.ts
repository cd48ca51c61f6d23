import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getHarmoniaClient, type HarmoniaClient } from '../../src/client/index.js'
import type { RunningServer } from '../../src/http/server.js'
import { startTestServer } from '../client/server.js'
import { until } from '../support/async.js'
import { runHarmonia } from '../support/harmonia-bin.js'

/** `templates`, `checkpoints`, `state`, `executions signal|rerun`: the real binary against a real server. */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const UNKNOWN = '0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee'

let server: RunningServer
let client: HarmoniaClient
let dir: string
beforeAll(async () => {
  server = await startTestServer()
  client = getHarmoniaClient({ url: server.url })
  dir = await mkdtemp(join(tmpdir(), 'harmonia-cli-resources-'))
})
afterAll(async () => {
  await server.close()
  await rm(dir, { recursive: true, force: true })
})

const harmonia = (args: string[], input?: string) => runHarmonia(server.url, args, input === undefined ? {} : { input })
const json = (result: { stdout: string }) => JSON.parse(result.stdout)

/** An execution whose `hold` task waits for the signal `go`; `last` then echoes the state's cursor. */
async function heldExecution(name: string): Promise<string> {
  const workflow = await client.createWorkflow({
    name,
    tasks: [
      { id: 'first', component: 'harmonia', action: 'echo', input: { n: 1 } },
      { id: 'hold', component: 'harmonia', action: 'wait_for_signal', input: { name: 'go' }, depends_on: ['first'] },
      { id: 'last', component: 'harmonia', action: 'echo', input: { cursor: '${state.cursor}' }, depends_on: ['hold'] },
    ],
  })
  const { execution_id } = await client.executeWorkflow({ workflow_id: workflow.workflow_id })
  await untilHolding(execution_id)
  return execution_id
}
const untilHolding = (id: string) =>
  until(async () => (await client.listSignals(id)).some((s) => s.name === 'go' && s.waiting), `${id} waiting for go`)

describe('templates', () => {
  it('create (text and --json), list, get, instantiate with --param and --params', async () => {
    const source = await client.createWorkflow({
      name: 'cli-greeter',
      tasks: [{ id: 'say', component: 'harmonia', action: 'echo', input: { text: 'hi ${params.who}', times: '${params.times}' } }],
    })
    const yaml = join(dir, 'template.yaml')
    await writeFile(
      yaml,
      `name: cli-tpl-one\ndescription: greets\nworkflow_definition_id: ${source.workflow_id}\n` +
        'parameters:\n  who: { type: string, required: true, description: whom to greet }\n  times: { type: integer, default: 2 }\n',
    )
    const jsonFile = join(dir, 'template.json')
    const plain = await client.createWorkflow({ name: 'cli-plain', tasks: [{ id: 'a', component: 'harmonia', action: 'noop' }] })
    await writeFile(jsonFile, JSON.stringify({ name: 'cli-tpl-two', workflow_definition_id: plain.workflow_id }))
    const [text, asJson] = await Promise.all([
      harmonia(['templates', 'create', yaml]),
      harmonia(['templates', 'create', jsonFile, '--json']),
    ])
    expect(text.code).toBe(0)
    const id = /^created template ([0-9a-f-]{36}) \(cli-tpl-one v1\)$/m.exec(text.stdout)?.[1]
    expect(id).toMatch(UUID)
    expect(asJson.code, asJson.stderr).toBe(0)
    expect(json(asJson)).toMatchObject({ name: 'cli-tpl-two', workflow_definition_id: plain.workflow_id, version: 1, parameters: {} })

    const paramsFile = join(dir, 'params.json')
    await writeFile(paramsFile, JSON.stringify({ who: 'file', times: 5 }))
    const [list, listJson, got, gotJson, badVersion, instance, fromFile, missing] = await Promise.all([
      harmonia(['templates', 'list', '--filter', 'cli-tpl-']),
      harmonia(['templates', 'list', '--filter', 'cli-tpl-', '--limit', '1', '--json']),
      harmonia(['templates', 'get', id!]),
      harmonia(['templates', 'get', id!, '--version', '1', '--json']),
      harmonia(['templates', 'get', id!, '--version', '0']),
      harmonia(['templates', 'instantiate', id!, '--param', 'who=Bo', '--param', 'times=3', '--name', 'cli-bo']),
      harmonia(['templates', 'instantiate', id!, '--params', paramsFile, '--param', 'who=Cy', '--json']),
      harmonia(['templates', 'instantiate', id!]),
    ])
    expect(list.code).toBe(0)
    expect(list.stdout).toMatch(new RegExp(`^${id}\\s+cli-tpl-one\\s+1\\s+${source.workflow_id} v1\\s+who, times\\s`, 'm'))
    expect(list.stdout).toMatch(/cli-tpl-two\s+1\s+\S+ v1\s+-\s/)
    expect(list.stdout).toContain('showing 1–2 of 2')
    expect(json(listJson)).toMatchObject({
      total: 2,
      limit: 1,
      offset: 0,
      items: [expect.objectContaining({ template_id: expect.any(String) })],
    })
    expect(got.stdout).toContain(`template ${id}`)
    expect(got.stdout).toMatch(/^ {2}parameter:\s+who \(string, required\) — whom to greet$/m)
    expect(got.stdout).toMatch(/^ {2}parameter:\s+times \(integer, default 2\)$/m)
    expect(json(gotJson)).toMatchObject({ template_id: id, version: 1, description: 'greets' })
    expect(badVersion.code).toBe(2)
    expect(badVersion.stderr).toContain('--version must be a whole number ≥ 1, got "0"')

    expect(instance.code).toBe(0)
    const workflowId = instance.stdout.trim()
    expect(workflowId).toMatch(UUID)
    expect(instance.stderr).toContain(`created workflow ${workflowId} (cli-bo v1) from template ${id}`)
    expect((await client.getWorkflow(workflowId)).tasks[0]!.input).toEqual({ text: 'hi Bo', times: 3 })
    expect(fromFile.code).toBe(0)
    expect(json(fromFile).tasks[0].input).toEqual({ text: 'hi Cy', times: 5 }) // --param wins over --params

    expect(missing.code).toBe(3) // the server's 422: a required parameter
    expect(missing.stderr).toMatch(/^error: 422 /m)
    expect(missing.stderr).toContain('who')
  })

  it('usage and API errors', async () => {
    const [noArg, badPair, notFound, badFile] = await Promise.all([
      harmonia(['templates', 'instantiate']),
      harmonia(['templates', 'instantiate', UNKNOWN, '--param', 'who']),
      harmonia(['templates', 'get', UNKNOWN]),
      harmonia(['templates', 'create', join(dir, 'absent.yaml')]),
    ])
    expect(noArg.code).toBe(2)
    expect(noArg.stderr).toContain('usage: harmonia templates instantiate <template_id>')
    expect(badPair.code).toBe(2)
    expect(badPair.stderr).toContain('--param expects key=value, got "who"')
    expect(notFound.code).toBe(3)
    expect(notFound.stderr).toMatch(/404 Not Found/)
    expect(badFile.code).toBe(2)
    expect(badFile.stderr).toContain('ENOENT')
  })
})

describe('state, checkpoints, signals, rerun', () => {
  it('state set (--data, stdin, file) and get; checkpoints create, list, get, restore; executions signal and rerun', async () => {
    const id = await heldExecution('cli-held')

    const setData = await harmonia(['state', 'set', id, '--data', '{"cursor": 1}', '--json'])
    expect(setData.code).toBe(0)
    expect(json(setData)).toMatchObject({ execution_id: id, state: { cursor: 1 }, updated_at: expect.any(String) })
    const stateFile = join(dir, 'state.yaml')
    await writeFile(stateFile, 'cursor: 7\nby: file\n')
    const setFile = await harmonia(['state', 'set', id, stateFile, '--json'])
    expect(json(setFile).state).toEqual({ cursor: 7, by: 'file' })
    const setStdin = await harmonia(['state', 'set', id, '-'], 'cursor: 42\nby: stdin\n')
    expect(setStdin.code).toBe(0)
    expect(setStdin.stdout).toContain(`state of execution ${id}`)
    const [got, gotJson] = await Promise.all([harmonia(['state', 'get', id]), harmonia(['state', 'get', id, '--json'])])
    expect(got.stdout).toContain('"by": "stdin"')
    expect(json(gotJson)).toMatchObject({ execution_id: id, state: { cursor: 42, by: 'stdin' } })

    const created = await harmonia(['checkpoints', 'create', id])
    expect(created.code).toBe(0)
    const checkpointId = new RegExp(
      `^created checkpoint ([0-9a-f-]{36}) of execution ${id} \\(running, 1 of 3 tasks completed\\)$`,
      'm',
    ).exec(created.stdout)?.[1]
    expect(checkpointId).toMatch(UUID)
    const createdJson = await harmonia(['checkpoints', 'create', id, '--json'])
    expect(json(createdJson)).toMatchObject({
      execution_id: id,
      workflow_status: 'running',
      task_statuses: { first: 'completed', hold: 'running', last: 'pending' },
      completed_tasks: ['first'],
      state_data: { cursor: 42, by: 'stdin' },
    })

    const [list, listJson, everyList, get, getJson] = await Promise.all([
      harmonia(['checkpoints', 'list', '--execution', id]),
      harmonia(['checkpoints', 'list', '--execution', id, '--json']),
      harmonia(['checkpoints', 'list', '--limit', '1', '--json']),
      harmonia(['checkpoints', 'get', checkpointId!]),
      harmonia(['checkpoints', 'get', checkpointId!, '--json']),
    ])
    expect(list.stdout).toMatch(new RegExp(`^${checkpointId}\\s+${id}\\s+running\\s+1/3\\s`, 'm'))
    expect(list.stdout).toContain('showing 1–2 of 2')
    expect(json(listJson).items.map((c: { checkpoint_id: string }) => c.checkpoint_id)).toContain(checkpointId)
    expect(json(everyList)).toMatchObject({ limit: 1, items: [expect.anything()] })
    expect(get.stdout).toContain(`checkpoint ${checkpointId}`)
    expect(get.stdout).toMatch(/^ {2}hold\s+running$/m)
    expect(get.stdout).toContain('state:     {"cursor":42,"by":"stdin"}')
    expect(json(getJson)).toMatchObject({ checkpoint_id: checkpointId, completed_tasks: ['first'] })

    // A restore starts a new execution; with --watch it follows it until the signal lets it complete.
    const restored = await harmonia(['checkpoints', 'restore', checkpointId!])
    expect(restored.code).toBe(0)
    const restoredId = restored.stdout.trim()
    expect(restoredId).toMatch(UUID)
    expect(restoredId).not.toBe(id)
    const watching = harmonia(['checkpoints', 'restore', checkpointId!, '--watch'])
    let watchedId: string | undefined
    await until(async () => {
      const page = await client.listExecutions({ limit: 1000 })
      watchedId = page.items.find((e) => e.restored_from === checkpointId && e.execution_id !== restoredId)?.execution_id
      return watchedId !== undefined
    }, 'the watched restore')

    await Promise.all([untilHolding(restoredId), untilHolding(watchedId!)])
    const [signal, signalJson] = await Promise.all([
      harmonia(['executions', 'signal', restoredId, 'go', '--payload', '{"ok": true}']),
      harmonia(['executions', 'signal', id, 'go', '--json']),
      client.sendSignal(watchedId!, 'go'),
    ])
    expect(signal.code).toBe(0)
    expect(signal.stdout).toBe('signal go delivered to a waiting task\n')
    expect(json(signalJson)).toEqual({ execution_id: id, name: 'go', delivered: true })
    const watched = await watching
    expect(watched.code).toBe(0)
    expect(watched.stderr).toContain(`restored checkpoint ${checkpointId} as execution ${watchedId}`)
    expect(watched.stdout).toMatch(/^ {2}last\s+completed/m)

    const done = await harmonia(['watch', restoredId])
    expect(done.code).toBe(0)
    expect((await client.getWorkflowStatus(restoredId)).task_executions.last!.output).toEqual({ cursor: 42 })
    await harmonia(['watch', id])

    const [rerun, rerunJson] = await Promise.all([
      harmonia(['executions', 'rerun', id, '--task', 'last']),
      harmonia(['executions', 'rerun', id, '--task', 'last', '--json']),
    ])
    expect(rerun.code).toBe(0)
    expect(rerun.stdout).toMatch(new RegExp(`^execution [0-9a-f-]{36} (pending|running) \\(rerun of ${id}\\)$`, 'm'))
    expect(json(rerunJson)).toMatchObject({ rerun_of: id, task_executions: { hold: { status: 'completed', output: null } } })
  })

  it('checkpoints restore --watch exits 1 when the restored execution fails', async () => {
    const run = await harmonia(['run', 'examples/failing.yaml'])
    const id = run.stdout.trim()
    expect((await harmonia(['watch', id])).code).toBe(1)
    const checkpoint = json(await harmonia(['checkpoints', 'create', id, '--json']))
    expect(checkpoint).toMatchObject({ workflow_status: 'failed', completed_tasks: ['independent'] })
    const restored = await harmonia(['checkpoints', 'restore', checkpoint.checkpoint_id, '--watch'])
    expect(restored.code).toBe(1)
    expect(restored.stdout).toMatch(/^ {2}broken\s+failed\s+1\s/m)
    expect(restored.stdout).toMatch(/^execution [0-9a-f-]{36} failed/m)
  })

  it('usage errors exit 2, unknown ids and an unreachable server exit 3', async () => {
    const file = join(dir, 'state.json')
    await writeFile(file, '[1, 2]')
    const results = await Promise.all([
      harmonia(['state', 'set', UNKNOWN]),
      harmonia(['state', 'set', UNKNOWN, '--data', 'not json']),
      harmonia(['state', 'set', UNKNOWN, '--data', '[1]']),
      harmonia(['state', 'set', UNKNOWN, file]),
      harmonia(['state', 'set', UNKNOWN, file, '--data', '{}']),
      harmonia(['checkpoints', 'list', '--limit', '0']),
      harmonia(['checkpoints', 'list', '--filter', 'x']),
      harmonia(['checkpoints', 'create']),
      harmonia(['state', 'get', UNKNOWN]),
      harmonia(['state', 'set', UNKNOWN, '--data', '{}']),
      harmonia(['checkpoints', 'get', UNKNOWN]),
      harmonia(['checkpoints', 'restore', UNKNOWN]),
      harmonia(['checkpoints', 'create', UNKNOWN]),
      harmonia(['executions', 'signal', UNKNOWN, 'go', '--json']),
      harmonia(['executions', 'rerun', UNKNOWN, '--json']),
      harmonia(['state', 'get', UNKNOWN, '--url', 'http://127.0.0.1:1']),
    ])
    const [noState, notJson, notObject, fileNotObject, both, badLimit, noFilter, noId, ...apiErrors] = results
    expect(noState.stderr).toContain('missing the state')
    expect(notJson.stderr).toContain('--data must be JSON')
    expect(notObject.stderr).toContain('--data: the state must be an object')
    expect(fileNotObject.stderr).toContain('the state must be an object')
    expect(both.stderr).toContain('not both')
    expect(badLimit.stderr).toContain('--limit must be a whole number ≥ 1')
    expect(noFilter.stderr).toContain("Unknown option '--filter'")
    expect(noId.stderr).toContain('usage: harmonia checkpoints create <execution_id>')
    for (const usage of [noState, notJson, notObject, fileNotObject, both, badLimit, noFilter, noId]) expect(usage.code).toBe(2)
    for (const r of apiErrors) expect(r.code, r.stderr).toBe(3)
    for (const r of apiErrors.slice(0, -1)) expect(r.stderr).toMatch(/^error: 404 /m)
    expect(apiErrors.at(-1)!.stderr).toContain('cannot reach Harmonia at http://127.0.0.1:1')
  })
})
