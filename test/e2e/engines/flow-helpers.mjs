// Helpers of the engine suite for popup sign-in, silent renewal and step-up
// (suite-popup-silent-step-up.mjs), written against the driver contract of README.md only.
// Every popup is opened by a real click (a user gesture) on a button of the app page: the engines'
// popup blockers are on, as in a user's browser.
import { dumpIndexedDb, webStorage } from '../support/browser-helpers.mjs'
export { refuseNextRefresh } from '../support/hostile-helpers.mjs'

/** The provider's form page, where a popup (or a page) waits for the user. */
export const atForm = (servers) => (u) => u.startsWith(`${servers.provider.issuer}/interaction/`)

/**
 * Clicks the app's #popup-login button (loginWithPopup(options), outcome in window.__popup) and
 * returns the popup once its URL matches `match` (default: any URL).
 */
export async function clickPopup(browser, page, options, match = () => true) {
  await page.evaluate((o) => {
    window.__popupOptions = o
    window.__popup = undefined
  }, options)
  await page.click('#popup-login')
  try {
    return await browser.waitForPage(match)
  } catch (e) {
    const outcome = await page.evaluate(() => Promise.race([window.__popup, new Promise((r) => setTimeout(() => r('pending'), 200))]))
    throw new Error(`${e.message}; loginWithPopup: ${JSON.stringify(outcome)}`)
  }
}

/** The outcome of the last popup sign-in: { ok, returnTo, user } | { ok: false, error }. */
export async function popupOutcome(page, timeout = 30_000) {
  await page.waitForFunction(() => window.__popup !== undefined, { timeout })
  return page.evaluate(() => window.__popup)
}

/**
 * In `popup`, on the provider's form: reports whether the popup is severed from its opener
 * (`window.opener === null` on the provider's page, as its COOP makes it), then signs in.
 */
export async function loginInPopup(popup, servers, { username = 'alice', password = 'wonderland' } = {}) {
  await popup.waitForURL(atForm(servers))
  const severed = await popup.evaluate(() => window.opener === null)
  await popup.fill('input[name=login]', username)
  await popup.fill('input[name=password]', password)
  await popup.click('#submit')
  return { severed }
}

/**
 * Adds a button to the app page whose click (a user gesture) runs `auth.fetch(url)`; the outcome
 * lands in window.__clicked. Clicking it is how a step-up popup gets its user activation.
 */
export async function addCallButton(page, url) {
  await page.evaluate((u) => {
    document.getElementById('e2e-call')?.remove()
    const button = document.createElement('button')
    button.id = 'e2e-call'
    button.type = 'button'
    button.textContent = 'Call the API'
    button.addEventListener('click', () => {
      window.__clicked = undefined
      window.e2e.call(u).then((r) => (window.__clicked = r))
    })
    document.body.append(button)
  }, url)
}

/** Clicks the button of addCallButton and waits for the auth.fetch outcome. */
export async function clickCall(page, { timeout = 30_000, during } = {}) {
  await page.evaluate(() => (window.__clicked = undefined))
  await page.click('#e2e-call')
  await during?.()
  await page.waitForFunction(() => window.__clicked !== undefined, { timeout })
  return page.evaluate(() => window.__clicked)
}

/** Transactions and relay marks the SDK keeps for pending sign-ins. */
export async function pendingSignIns(page) {
  const db = await dumpIndexedDb(page)
  const transactions = Object.values(db).flatMap((d) => d.stores.transactions ?? []).filter((r) => r.key.includes('|txn|'))
  const { localStorage } = await webStorage(page)
  const marks = Object.keys(localStorage).filter((k) => k.includes(':pending:') || k.includes(':relay:'))
  return { transactions: transactions.length, marks }
}

/** The authorization requests the provider received (dev-provider's `authorization.request` log). */
export function authorizationRequests(servers) {
  return servers.provider.stats.events.filter((e) => e.type === 'authorization.request')
}

/** Ends the provider's own session (its cookie) from `page`: its end-session page, confirmed. */
export async function endProviderSession(page, servers) {
  await page.goto(`${servers.provider.issuer}/session/end`)
  await page.click('#logout-yes')
  await page.waitForURL((u) => u.startsWith(`${servers.provider.issuer}/session/end/success`))
}

export const iframes = (page) => page.evaluate(() => document.querySelectorAll('iframe').length)
