// Chromium for the shared engine suite: Debian's chromium (or $CHROMIUM_PATH) driven by
// playwright-core, with the flags of test/e2e/browser.mjs. See README.md for the contract.
import { chromium } from 'playwright-core'

import { launchOptions } from '../browser.mjs'
import { pageWaiter, wrapPage } from './page-helpers.mjs'

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
 * so IndexedDB survives closing and launching again on the same folder. The popup blocker is on
 * unless `popupBlocker: false`.
 * @param {{ profileDir?: string, popupBlocker?: boolean }} [options]
 */
export async function launch(options = {}) {
  // Playwright turns Chromium's popup blocker off (--disable-popup-blocking); a user's browser has
  // it on, and the popup tests need it: only a window opened in a user gesture may open.
  const browserOptions = launchOptions(options.popupBlocker === false ? {} : { ignoreDefaultArgs: ['--disable-popup-blocking'] })
  let browser
  let context
  if (options.profileDir) {
    context = await chromium.launchPersistentContext(options.profileDir, { ...browserOptions, serviceWorkers: 'block' })
  } else {
    browser = await chromium.launch(browserOptions)
    context = await browser.newContext({ serviceWorkers: 'block' })
  }
  // A persistent context opens with one blank tab: use it first, so no stray tab is left over.
  const spare = [...context.pages()]
  const own = new Set()
  return {
    engine: 'chromium',
    async newPage() {
      const page = spare.shift() ?? (await context.newPage())
      own.add(page)
      return wrapPage(page, actions)
    },
    waitForPage: pageWaiter(async () => context.pages(), own, actions),
    async close() {
      await context.close()
      await browser?.close()
    },
  }
}
