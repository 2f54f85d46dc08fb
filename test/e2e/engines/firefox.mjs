// Firefox for the shared engine suite: Debian's firefox-esr (or $FIREFOX_PATH) driven by
// puppeteer-core over WebDriver BiDi. (Playwright's BiDi mode sends a command this ESR does not
// know.) See README.md for the contract.
import { existsSync } from 'node:fs'

import puppeteer from 'puppeteer-core'

import { callExpression, poll, urlMatcher } from './page-helpers.mjs'

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
}

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
      await page.waitForSelector(selector, { visible: true })
      await page.click(selector)
    },
    async fill(selector, value) {
      await page.locator(selector).fill(value)
    },
    async close() {
      await page.close()
    },
  }
}

/**
 * Launches Firefox (headless). With `profileDir` the profile lives in that folder, so IndexedDB
 * survives closing and launching again on the same folder.
 * @param {{ profileDir?: string }} [options]
 */
export async function launch(options = {}) {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: findFirefox(),
    headless: true,
    extraPrefsFirefox: PREFS,
    ...(options.profileDir ? { userDataDir: options.profileDir } : {}),
  })
  // Firefox opens with one blank tab: use it first.
  const spare = [...(await browser.pages())]
  return {
    engine: 'firefox',
    async newPage() {
      return wrapPage(spare.shift() ?? (await browser.newPage()))
    },
    async close() {
      await browser.close()
    },
  }
}
