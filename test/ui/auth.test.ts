import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHarmonia, type Harmonia } from '../../src/harmonia.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { hasChromium, launch, openPage, type Browserish } from './browser.js'

/** The web UI with HARMONIA_API_TOKENS set: a token prompt and no data until a token the server takes is given. */

let browser: Browser
let harmonia: Harmonia
let server: RunningServer
let executionId: string

describe.skipIf(!hasChromium)(hasChromium ? 'web UI with tokens' : 'web UI with tokens (skipped: requires /usr/bin/chromium)', () => {
  beforeAll(async () => {
    browser = await launch()
    harmonia = await createHarmonia({ database: 'memory:store' })
    server = await startServer({ harmonia, port: 0, hostname: '127.0.0.1', tokens: ['viewer:look-but-do-not-touch'] })
    const wf = await harmonia.createWorkflow({
      name: 'secret-workflow-name',
      tasks: [{ id: 'only', component: 'harmonia', action: 'noop' }],
    })
    executionId = (await harmonia.startExecution({ workflow_id: wf.workflow_id })).execution_id
    await harmonia.waitForExecution(executionId)
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await harmonia?.close()
  })

  it('shows the token prompt and no data without a token; a wrong token is refused; the right one shows the data until sign-out', async () => {
    const { page, problems } = await openPage(browser)
    const apiAnswers: number[] = []
    page.on('response', (r) => {
      if (new URL(r.url()).pathname.startsWith('/api/')) apiAnswers.push(r.status())
    })
    await page.goto(`${server.url}/ui/executions/${executionId}`)
    await page.waitForSelector('.token-prompt')
    const before = (await page.textContent('body')) ?? ''
    expect(before).not.toContain('secret-workflow-name')
    expect(before).not.toContain(executionId.slice(0, 8))
    expect(await page.locator('.dag, table').count()).toBe(0)
    expect(apiAnswers.every((s) => s === 401)).toBe(true)
    // The stream of the page is refused too.
    expect((await fetch(`${server.url}/events/executions/${executionId}`)).status).toBe(401)

    await page.fill('#token', 'not-the-token')
    await page.click('button:text("Sign in")')
    await page.waitForSelector('.token-prompt .problem')

    await page.fill('#token', 'look-but-do-not-touch')
    await page.click('button:text("Sign in")')
    await page.waitForSelector('.dag .node[data-task-id="only"][data-status="completed"]')
    await page.waitForSelector('a:text("secret-workflow-name")')

    // Kept in this browser: a reload needs no new sign-in.
    await page.reload()
    await page.waitForSelector('.dag .node[data-task-id="only"]')

    await page.click('button:text("Sign out")')
    await page.waitForSelector('.token-prompt')
    expect(await page.evaluate(() => (globalThis as unknown as Browserish).localStorage.getItem('harmonia.token'))).toBeNull()
    expect(problems).toEqual([])
  })
})
