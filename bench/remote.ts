/**
 * Remote-component figure (`npm run bench` runs this after the in-process bench): tasks/s of one execution of a
 * 1,000-task fan-out whose every task is a remote component call (signed `POST {url}/api/actions/noop`, API.md
 * "The call"), at max_concurrency 50 on the memory store, against a keep-alive node:http component in a child process
 * (its CPU is not the engine's); beside it, the same shape on the in-process `harmonia.noop`, and the floor: the same
 * 1,000 POSTs, 50 at a time, with plain fetch and no engine. Prints, never fails.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { performance } from 'node:perf_hooks'
import type { Harmonia } from '../src/index.js'
import { best, engineRun, fanOut } from './shapes.js'

const TASKS = 1_000
const CONCURRENCY = 50

// The component: answers every action 200 {"output": {}} on a keep-alive connection. It does not check the signature
// (Harmonia still computes one per call: the component has a secret).
const COMPONENT = `
import { createServer } from 'node:http'
const server = createServer((req, res) => {
  req.resume()
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"output":{}}'))
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'))
`

/** Starts the component in a child process; resolves with its URL once it listens. */
async function startComponent(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', COMPONENT], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`the component process exited (${String(code)}) before listening`)
  })
  exited.catch(() => undefined) // the kill at the end of the bench must not be an unhandled rejection
  const [chunk] = (await Promise.race([once(child.stdout, 'data'), exited])) as [Buffer]
  return { url: `http://127.0.0.1:${Number(chunk.toString().trim())}`, child }
}

/** The floor: 1,000 plain fetch POSTs to the same component, 50 in flight, each body read. */
async function fetchFloor(url: string): Promise<number> {
  const t0 = performance.now()
  let sent = 0
  const worker = async () => {
    while (sent < TASKS) {
      sent++
      const response = await fetch(`${url}/api/actions/noop`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      })
      await response.arrayBuffer()
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  return performance.now() - t0
}

const rate = (ms: number) => Math.round((TASKS / ms) * 1000).toLocaleString('en')

export async function remoteBench(): Promise<void> {
  let component: { url: string; child: ChildProcess } | undefined
  try {
    component = await startComponent()
    const remoteShape = fanOut(TASKS).map((task) => ({ ...task, component: 'remote' }))
    const { url } = component
    const register = (harmonia: Harmonia) => harmonia.registerComponent({ name: 'remote', url, secret: 'bench-secret' })
    const remoteMs = await best(3, () => engineRun(remoteShape, CONCURRENCY, register))
    const localMs = await best(3, () => engineRun(fanOut(TASKS), CONCURRENCY))
    const floorMs = await best(3, () => fetchFloor(url))
    console.log(
      `remote components (fan-out of ${TASKS.toLocaleString('en')} in one execution, max_concurrency ${CONCURRENCY}, memory store, ` +
        `signed calls to a keep-alive node:http component in a child process):`,
    )
    console.log(`  remote component  ${rate(remoteMs).padStart(7)} tasks/s (${remoteMs.toFixed(0)} ms)`)
    console.log(`  harmonia.noop     ${rate(localMs).padStart(7)} tasks/s (${localMs.toFixed(0)} ms), the same shape in process`)
    console.log(
      `  plain fetch       ${rate(floorMs).padStart(7)} requests/s (${floorMs.toFixed(0)} ms), the same 1,000 POSTs with no engine`,
    )
  } catch (error) {
    console.log(`remote-component bench skipped: ${String(error)}`)
  } finally {
    component?.child.kill()
  }
}
