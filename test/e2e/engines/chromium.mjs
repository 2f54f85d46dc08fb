// Chromium for the shared engine suite: Debian's chromium (or $CHROMIUM_PATH) driven by
// playwright-core, with the flags of test/e2e/browser.mjs. See README.md for the contract.
import { chromium } from 'playwright-core'

import { launchOptions } from '../browser.mjs'
import { callExpression, poll, urlMatcher } from './page-helpers.mjs'

function wrapPage(page) {
  return {
    async goto(url) {
      await page.goto(url, { waitUntil: 'load' })
    },
    async url() {
      return page.url()
    },
    async reload() {
      await page.reload({ waitUntil: 'load' })
    },
    evaluate(fn, ...args) {
      return page.evaluate(callExpression(fn, args))
    },
    async waitForFunction(fn, { timeout = 15_000, args = [] } = {}) {
      const expression = callExpression(fn, args)
      await poll(() => page.evaluate(expression), { timeout, message: `${fn.toString().slice(0, 120)}` })
    },
    async waitForURL(match, { timeout = 15_000 } = {}) {
      const test = urlMatcher(match)
      await poll(() => test(page.url()), { timeout, message: `a URL matching ${match}` })
    },
    async click(selector) {
      await page.click(selector)
    },
    async fill(selector, value) {
      await page.fill(selector, value)
    },
    async close() {
      await page.close()
    },
  }
}

/**
 * Launches Chromium. With `profileDir` the profile lives in that folder (a persistent context),
 * so IndexedDB survives closing and launching again on the same folder.
 * @param {{ profileDir?: string }} [options]
 */
export async function launch(options = {}) {
  let browser
  let context
  if (options.profileDir) {
    context = await chromium.launchPersistentContext(options.profileDir, { ...launchOptions(), serviceWorkers: 'block' })
  } else {
    browser = await chromium.launch(launchOptions())
    context = await browser.newContext({ serviceWorkers: 'block' })
  }
  // A persistent context opens with one blank tab: use it first, so no stray tab is left over.
  const spare = [...context.pages()]
  return {
    engine: 'chromium',
    async newPage() {
      return wrapPage(spare.shift() ?? (await context.newPage()))
    },
    async close() {
      await context.close()
      await browser?.close()
    },
  }
}
