// Firefox for the shared engine suite: Debian's firefox-esr (or $FIREFOX_PATH) driven by
// puppeteer-core over WebDriver BiDi. (Playwright's BiDi mode sends a command this ESR does not
// know.) See README.md for the contract.
import { existsSync } from 'node:fs'

import puppeteer from 'puppeteer-core'

import { pageWaiter, wrapPage } from './page-helpers.mjs'

/** $FIREFOX_PATH, else Debian's /usr/bin/firefox-esr, else /usr/bin/firefox. */
export function findFirefox() {
  const fromEnv = process.env.FIREFOX_PATH
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`FIREFOX_PATH=${fromEnv} does not exist`)
    return fromEnv
  }
  for (const candidate of ['/usr/bin/firefox-esr', '/usr/bin/firefox']) if (existsSync(candidate)) return candidate
  throw new Error("No Firefox found: set FIREFOX_PATH, or install Debian's firefox-esr (apt-get install firefox-esr)")
}

// Off the network, as the Chromium flags are: no updates, telemetry, captive-portal or
// connectivity checks, safe-browsing lists.
const PREFS = {
  'app.update.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'toolkit.telemetry.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'browser.shell.checkDefaultBrowser': false,
  // Background tabs keep their timers, as Playwright's Chromium flags do
  // (--disable-background-timer-throttling): two-tab tests start their calls on a timer.
  'dom.min_background_timeout_value': 4,
  'dom.min_background_timeout_value_without_budget_throttling': 4,
  'dom.timeout.enable_budget_timer_throttling': false,
  // Puppeteer turns Firefox's popup blocker off; a user's browser has it on, and the popup tests
  // need it: only a window opened in a user gesture may open.
  'dom.disable_open_during_load': true,
}

/** Puppeteer's click (after the element is visible) and fill. */
const actions = {
  click: async (page, selector) => {
    await page.waitForSelector(selector, { visible: true })
    await page.click(selector)
  },
  fill: async (page, selector, value) => {
    await page.locator(selector).fill(value)
  },
}

/**
 * Launches Firefox (headless). With `profileDir` the profile lives in that folder, so IndexedDB
 * survives closing and launching again on the same folder. The popup blocker is on unless
 * `popupBlocker: false`.
 * @param {{ profileDir?: string, popupBlocker?: boolean }} [options]
 */
export async function launch(options = {}) {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: findFirefox(),
    headless: true,
    extraPrefsFirefox: { ...PREFS, ...(options.popupBlocker === false ? { 'dom.disable_open_during_load': false } : {}) },
    ...(options.profileDir ? { userDataDir: options.profileDir } : {}),
  })
  // Firefox opens with one blank tab: use it first.
  const spare = [...(await browser.pages())]
  const own = new Set()
  return {
    engine: 'firefox',
    async newPage() {
      const page = spare.shift() ?? (await browser.newPage())
      own.add(page)
      return wrapPage(page, actions)
    },
    waitForPage: pageWaiter(() => browser.pages(), own, actions),
    async close() {
      await browser.close()
    },
  }
}
