// Chromium for the shared engine suite: Debian's chromium (or $CHROMIUM_PATH) driven by
// playwright-core, with the flags of test/e2e/browser.mjs. See README.md for the contract.
import { chromium } from 'playwright-core'

import { launchOptions } from '../browser.mjs'
import { wrapPage } from './page-helpers.mjs'

/** Playwright's click and fill (they wait for the element themselves). */
const actions = {
  click: async (page, selector) => {
    await page.click(selector)
  },
  fill: async (page, selector, value) => {
    await page.fill(selector, value)
  },
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
      return wrapPage(spare.shift() ?? (await context.newPage()), actions)
    },
    async close() {
      await context.close()
      await browser?.close()
    },
  }
}
