// Helpers for the popup, silent-renewal and step-up specs: they drive loginWithPopup through the
// test app's #popup-login button (a real click, a real user gesture) and the provider's real pages.
import { expect } from '@playwright/test'

import { submitLogin } from './browser-helpers.mjs'

/**
 * Clicks the app's popup button with `options` (loginWithPopup options) and returns the popup page.
 * The outcome lands in window.__popup (see popupOutcome).
 */
export async function clickPopup(page, options) {
  await page.evaluate((o) => {
    window.__popupOptions = o
    window.__popup = undefined
  }, options)
  const popupEvent = page.waitForEvent('popup')
  await page.click('#popup-login')
  return popupEvent
}

/** The outcome of the last popup sign-in started by clickPopup: { ok, returnTo, user } | { ok: false, error }. */
export async function popupOutcome(page, timeout = 30_000) {
  await page.waitForFunction(() => window.__popup !== undefined, undefined, { timeout })
  return page.evaluate(() => window.__popup)
}

/** Waits for the provider's login form in `popup` and submits it. */
export async function loginInPopup(popup, credentials) {
  await expect(popup.locator('input[name=login]')).toBeVisible({ timeout: 15_000 })
  await submitLogin(popup, credentials)
}

/** A full popup sign-in: click, log in on the provider's form, outcome. */
export async function popupSignIn(page, { username, password, ...options } = {}) {
  const popup = await clickPopup(page, options)
  await loginInPopup(popup, { username, password })
  return { popup, outcome: await popupOutcome(page) }
}

/** Collects the authorization requests (/auth) of every page of `context`, as URLSearchParams. */
export function watchAuthorizationRequests(context, servers) {
  const seen = []
  context.on('request', (r) => {
    if (r.url().startsWith(`${servers.provider.issuer}/auth?`)) seen.push(new URL(r.url()).searchParams)
  })
  return seen
}
