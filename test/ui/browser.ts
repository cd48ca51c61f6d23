import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'

/** Debian's chromium, driven by playwright-core (.ci/run installs the package when it is missing). */
export const CHROMIUM = process.env.HARMONIA_CHROMIUM ?? '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM)
/** Where the UI tests write their screenshots (kept by CI as artifacts; not in git). */
export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'ui')

export async function launch(): Promise<Browser> {
  await mkdir(ARTIFACTS, { recursive: true })
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] })
}

/** A page that fails the test on any script error or failed request of the UI. */
export async function openPage(browser: Browser, viewport = { width: 1280, height: 800 }): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport })
  const page = await context.newPage()
  const problems: string[] = []
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  page.on('response', (response) => {
    if (response.status() >= 500) problems.push(`${response.status()} ${response.url()}`)
  })
  return { page, problems }
}

export const screenshot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })

/** What the tests read of the page's globals inside `page.evaluate` (the test project has no DOM types). */
export type Browserish = {
  document: { documentElement: { scrollWidth: number }; querySelectorAll(selector: string): Iterable<{ disabled: boolean }> }
  innerWidth: number
  localStorage: { getItem(key: string): string | null }
  getComputedStyle(element: unknown): { fill: string }
}
