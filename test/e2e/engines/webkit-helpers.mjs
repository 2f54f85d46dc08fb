// Helpers for the WebKit specs, written against the engine contract (README.md): they drive the
// test app (test/e2e/app) through window.auth and window.e2e, and the provider's login form.
import { requireBuild } from '../support/browser-helpers.mjs'

/** Opens the app at `pathAndQuery` and waits until it has created the client and read the session. */
export async function openApp(page, servers, pathAndQuery = '/') {
  requireBuild()
  await page.goto(`${servers.app.origin}${pathAndQuery}`)
  await waitForApp(page)
}

export async function waitForApp(page) {
  await page.waitForFunction(() => window.__ready === true || window.__appError !== undefined)
  const appError = await page.evaluate(() => window.__appError ?? null)
  if (appError) throw new Error(`test app failed to start: ${appError.message}`)
  await page.waitForFunction(() => window.auth.getSnapshot().status !== 'loading')
}

/** Waits until the client's snapshot has the given status. */
export async function waitForStatus(page, status, timeout = 10_000) {
  await page.waitForFunction((s) => window.auth.getSnapshot().status === s, { timeout, args: [status] })
}

/**
 * Full sign-in through the provider's form; returns the app's callback outcome
 * ({ ok: true, ... } or { ok: false, code, ... }).
 */
export async function signIn(page, servers, { username = 'alice', password = 'wonderland' } = {}) {
  const issuer = servers.provider.issuer
  const app = servers.app.origin
  await page.evaluate(() => {
    void window.auth.login()
  })
  await page.waitForURL((u) => u.startsWith(`${issuer}/interaction/`))
  await page.fill('input[name=login]', username)
  await page.fill('input[name=password]', password)
  await page.click('#submit')
  await page.waitForURL((u) => new URL(u).origin === app)
  await page.waitForFunction(() => window.__ready === true && window.__callback !== undefined)
  return page.evaluate(() => window.__callback)
}
