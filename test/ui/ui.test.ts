import type { Browser } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { HandlerContext } from '../../src/components/handler.js'
import { createHarmonia, type Harmonia } from '../../src/harmonia.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { deferred, until } from '../support/async.js'
import { hasChromium, launch, openPage, screenshot, type Browserish } from './browser.js'

/** The web UI (issue 14) in real headless Chromium against a real server: live list and DAG, timeline, commands. */

let browser: Browser
let harmonia: Harmonia
let server: RunningServer
const gates = new Map<string, ReturnType<typeof deferred<void>>>()
const gate = (key: string) => {
  if (!gates.has(key)) gates.set(key, deferred<void>())
  return gates.get(key)!
}
let flakyCalls = 0

describe.skipIf(!hasChromium)(hasChromium ? 'web UI' : 'web UI (skipped: requires /usr/bin/chromium)', () => {
  beforeAll(async () => {
    browser = await launch()
    harmonia = await createHarmonia({
      database: 'memory:store',
      strictComponents: false,
      components: {
        held: {
          wait: (_: unknown, ctx: HandlerContext) => gate(`${ctx.executionId}/${ctx.taskId}`).promise.then(() => ({ task: ctx.taskId })),
        },
        flaky: {
          once: () => {
            if (++flakyCalls % 2 === 1) throw Object.assign(new Error('the first call fails'), { retryable: true })
            return { ok: true }
          },
        },
      },
    })
    server = await startServer({ harmonia, port: 0, hostname: '127.0.0.1', tokens: [] })
  })
  afterEach(() => {
    for (const g of gates.values()) g.resolve()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await harmonia?.close()
  })

  const workflow = (name: string, tasks: unknown[], extra: Record<string, unknown> = {}) =>
    harmonia.createWorkflow({ name, tasks, ...extra })
  const release = (executionId: string, taskId: string) => gate(`${executionId}/${taskId}`).resolve()

  it('GET / redirects to /ui, and the executions list shows a new execution without a reload', async () => {
    const wf = await workflow('listed', [{ id: 'only', component: 'harmonia', action: 'noop' }])
    const { page, problems } = await openPage(browser)
    await page.goto(`${server.url}/`)
    expect(new URL(page.url()).pathname).toBe('/ui')
    await page.waitForSelector('h1:text("Executions")')
    const { execution_id } = await harmonia.startExecution({ workflow_id: wf.workflow_id })
    await page.waitForSelector(`tr[data-execution-id="${execution_id}"]`)
    await page.waitForSelector(`tr[data-execution-id="${execution_id}"] .status:text("completed")`)
    expect(problems).toEqual([])
  })

  it('the execution page draws the DAG and a task changes colour as it completes, live', async () => {
    const wf = await workflow('diamond', [
      { id: 'a', component: 'harmonia', action: 'noop' },
      { id: 'b', component: 'held', action: 'wait', depends_on: ['a'] },
      { id: 'c', component: 'harmonia', action: 'noop', depends_on: ['a'] },
      { id: 'd', component: 'harmonia', action: 'noop', depends_on: ['b', 'c'] },
    ])
    const { execution_id } = await harmonia.startExecution({ workflow_id: wf.workflow_id })
    const { page, problems } = await openPage(browser)
    await page.goto(`${server.url}/ui/executions/${execution_id}`)
    await page.waitForSelector('.dag .node[data-task-id="d"]')
    expect(await page.locator('.dag .node').count()).toBe(4)
    expect(await page.locator('.dag .edge').count()).toBe(4)
    const b = page.locator('.dag .node[data-task-id="b"]')
    await page.waitForSelector('.dag .node[data-task-id="b"][data-status="running"]')
    const fill = () =>
      b
        .locator('rect')
        .first()
        .evaluate((rect) => (globalThis as unknown as Browserish).getComputedStyle(rect).fill)
    const running = await fill()
    release(execution_id, 'b')
    await page.waitForSelector('.dag .node[data-task-id="b"][data-status="completed"]')
    expect(await fill()).not.toBe(running)
    await page.waitForSelector('.dag .node[data-task-id="d"][data-status="completed"]')
    await page.waitForSelector('h1 .status:text("completed")')
    await b.click()
    await page.waitForSelector('.task-panel[data-task-id="b"]')
    await screenshot(page, 'execution-1280x800')
    expect(problems).toEqual([])
  })

  it('the timeline shows the attempts and the retry gap of a task that failed once', async () => {
    const wf = await workflow('retried', [
      { id: 'shaky', component: 'flaky', action: 'once', retry: { max_attempts: 3, initial_interval: 0.001, jitter: false } },
      { id: 'after', component: 'harmonia', action: 'noop', depends_on: ['shaky'] },
    ])
    const { execution_id } = await harmonia.startExecution({ workflow_id: wf.workflow_id })
    expect((await harmonia.waitForExecution(execution_id)).status).toBe('completed')
    const { page, problems } = await openPage(browser)
    await page.goto(`${server.url}/ui/executions/${execution_id}`)
    const row = page.locator('.tl-row[data-task-id="shaky"]')
    await row.locator('.seg[data-kind="running"][data-attempt="2"]').waitFor()
    expect(await row.locator('.seg[data-kind="running"]').count()).toBe(2)
    expect(await row.locator('.seg[data-kind="retry"]').count()).toBe(1)
    expect(await row.locator('.seg[data-kind="running"][data-attempt="1"]').getAttribute('class')).toContain('retrying')
    // The task panel lists both attempts, the first with its error.
    await page.locator('.dag .node[data-task-id="shaky"]').click()
    await page.waitForSelector('.task-panel table.attempts tbody tr:nth-child(2)')
    expect(await page.locator('.task-panel').textContent()).toContain('the first call fails')
    expect(problems).toEqual([])
  })

  it('"Pause" pauses the execution (seen through the API) and "Resume" lets it complete', async () => {
    const wf = await workflow('pausable', [
      { id: 'first', component: 'held', action: 'wait' },
      { id: 'second', component: 'held', action: 'wait', depends_on: ['first'] },
    ])
    const { execution_id } = await harmonia.startExecution({ workflow_id: wf.workflow_id })
    const { page, problems } = await openPage(browser)
    await page.goto(`${server.url}/ui/executions/${execution_id}`)
    await page.waitForSelector('.dag .node[data-task-id="first"][data-status="running"]')
    await page.click('button:text("Pause")')
    const statusNow = async () =>
      ((await (await fetch(`${server.url}/api/executions/${execution_id}`)).json()) as { status: string }).status
    await until(async () => (await statusNow()) === 'paused', 'paused')
    await page.waitForSelector('h1 .status:text("paused")')
    release(execution_id, 'first')
    await page.click('button:text("Resume")')
    await page.waitForSelector('.dag .node[data-task-id="second"][data-status="running"]')
    release(execution_id, 'second')
    await page.waitForSelector('h1 .status:text("completed")')
    expect((await harmonia.getExecution(execution_id)).status).toBe('completed')
    // A refused command shows the server's problem: a finished execution cannot be paused.
    await page.evaluate(() => {
      for (const b of (globalThis as unknown as Browserish).document.querySelectorAll('button')) b.disabled = false
    })
    await page.click('button:text("Pause")')
    await page.locator('.problem', { hasText: 'Conflict (409)' }).waitFor()
    expect(await page.locator('.problem').textContent()).toContain('it is completed')
    expect(problems).toEqual([])
  })

  it('rerunning one selected task from the UI creates the new execution', async () => {
    const wf = await workflow('rerunnable', [
      { id: 'a', component: 'harmonia', action: 'noop' },
      { id: 'b', component: 'harmonia', action: 'noop', depends_on: ['a'] },
    ])
    const { execution_id } = await harmonia.startExecution({ workflow_id: wf.workflow_id })
    await harmonia.waitForExecution(execution_id)
    const { page, problems } = await openPage(browser)
    await page.goto(`${server.url}/ui/executions/${execution_id}`)
    await page.locator('.dag .node[data-task-id="b"]').click()
    await page.click('button:text("Rerun selected (1)")')
    await page.waitForURL((url) => url.pathname.startsWith('/ui/executions/') && !url.pathname.endsWith(execution_id))
    const rerunId = new URL(page.url()).pathname.split('/').pop()!
    const rerun = await harmonia.waitForExecution(rerunId)
    expect(rerun).toMatchObject({ status: 'completed', rerun_of: execution_id })
    await page.waitForSelector(`a[href="/ui/executions/${execution_id}"]`)
    expect(problems).toEqual([])
  })

  it('a fan-out is one node with the progress of its elements; its panel lists them', async () => {
    const wf = await workflow('fanned', [
      { id: 'each', component: 'harmonia', action: 'echo', for_each: [1, 2, 3, 4, 5], input: { n: '${item}' } },
      { id: 'after', component: 'harmonia', action: 'noop', depends_on: ['each'] },
    ])
    const { execution_id } = await harmonia.startExecution({ workflow_id: wf.workflow_id })
    await harmonia.waitForExecution(execution_id)
    const { page, problems } = await openPage(browser)
    await page.goto(`${server.url}/ui/executions/${execution_id}`)
    const node = page.locator('.dag .node[data-task-id="each"]')
    await page.waitForSelector('.dag .node[data-task-id="each"][data-status="completed"]')
    expect(await node.textContent()).toContain('fan-out 5/5')
    expect(await page.locator('.dag .node').count()).toBe(2)
    await node.click()
    await page.waitForSelector('.task-panel .elements tr[data-index="4"]')
    expect(await page.locator('.task-panel .elements tbody tr').count()).toBe(5)
    expect(problems).toEqual([])
  })

  it('the workflow page draws the DAG and runs the workflow from a form generated from its input', async () => {
    const wf = await workflow(
      'with-input',
      [
        { id: 'greet', component: 'harmonia', action: 'echo', input: { text: '${input.who}' } },
        { id: 'done', component: 'harmonia', action: 'noop', depends_on: ['greet'] },
      ],
      { input: { who: { type: 'string', required: true, description: 'Whom to greet' }, times: { type: 'integer', default: 2 } } },
    )
    for (const viewport of [
      { width: 1280, height: 800 },
      { width: 390, height: 844 },
    ]) {
      const { page, problems } = await openPage(browser, viewport)
      await page.goto(`${server.url}/ui/workflows/${wf.workflow_id}`)
      await page.waitForSelector('.dag .node[data-task-id="done"]')
      await screenshot(page, `workflow-${viewport.width}x${viewport.height}`)
      if (viewport.width < 500) {
        // Usable on a phone: nothing wider than the screen but the graph's own scroll area.
        const overflow = await page.evaluate(() => {
          const w = globalThis as unknown as Browserish
          return w.document.documentElement.scrollWidth - w.innerWidth
        })
        expect(overflow).toBeLessThanOrEqual(1)
        continue
      }
      await page.click('button:text("Definition (YAML)")')
      expect(await page.textContent('pre.definition')).toContain('name: with-input')
      await page.click('button:text("Run workflow")')
      await page.waitForSelector('.field-error:text("who is required")')
      await page.fill('#field-who', 'Ada')
      await page.fill('#field-times', '2.5')
      await page.click('button:text("Run workflow")')
      await page.waitForSelector('.field-error:text("times must be an integer")')
      await page.fill('#field-times', '3')
      await page.click('button:text("Run workflow")')
      await page.waitForURL((url) => url.pathname.startsWith('/ui/executions/'))
      const started = await harmonia.waitForExecution(new URL(page.url()).pathname.split('/').pop()!)
      expect(started.input).toEqual({ who: 'Ada', times: 3 })
      expect(problems).toEqual([])
    }
  })

  it('an execution page on a 390-pixel phone screen', async () => {
    const wf = await workflow('phone', [
      { id: 'a', component: 'harmonia', action: 'noop' },
      { id: 'b', component: 'harmonia', action: 'noop', depends_on: ['a'] },
    ])
    const { execution_id } = await harmonia.startExecution({ workflow_id: wf.workflow_id })
    await harmonia.waitForExecution(execution_id)
    const { page, problems } = await openPage(browser, { width: 390, height: 844 })
    await page.goto(`${server.url}/ui/executions/${execution_id}`)
    await page.waitForSelector('.dag .node[data-task-id="b"][data-status="completed"]')
    const overflow = await page.evaluate(() => {
      const w = globalThis as unknown as Browserish
      return w.document.documentElement.scrollWidth - w.innerWidth
    })
    expect(overflow).toBeLessThanOrEqual(1)
    await screenshot(page, 'execution-390x844')
    expect(problems).toEqual([])
  })
})
