// Regression tests for what the outside audit of this round found in real engines (each failed in
// the engines named before its fix, and the fix's unit test alone could not show it there):
// - logout(): the session ends in the same task (all engines handed out the old token right after);
// - logout() with bad options still ends the session (all engines kept it);
// - auth.fetch with a `signal` that is not an AbortSignal: an OAuthError (WebKit: a bare TypeError);
// - readChallenge() when its parser cannot be loaded: network_error (all engines: a bare TypeError).
// Written once against the driver contract (README.md); `run.mjs` runs it per engine.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { snapshot } from '../support/browser-helpers.mjs'
import { assertMatch, browserPerSuite, loadEngine, signedIn, waitForApp, waitForStatus } from './suite-helpers.mjs'

const ENGINE = process.env.E2E_ENGINE ?? 'chromium'
const driver = await loadEngine(ENGINE)
const TIMEOUT = 120_000
const PROTOCOL = /^\/dist\/protocol-[\w-]+\.js$/

const withStack = browserPerSuite(driver)
const name = (s) => `${ENGINE}: ${s}`

/** A fresh page of a signed-in app: only the core is loaded (the token is fresh, nothing else needed). */
async function freshSignedInPage(servers, newPage) {
  const page = await newPage()
  await signedIn(page, servers)
  await page.goto(`${servers.app.origin}/home`)
  await waitForApp(page)
  await waitForStatus(page, 'authenticated')
  return page
}

test(name('in the same task as logout(): the snapshot says unauthenticated, getAccessToken() and auth.fetch() get login_required, the API sees no request'), { timeout: TIMEOUT }, () =>
  withStack({}, async (servers, newPage) => {
    const { api } = servers
    const page = await freshSignedInPage(servers, newPage)
    api.stats.reset()
    const out = await page.evaluate((apiUrl) => {
      const auth = window.auth
      const logout = auth.logout({ localOnly: true })
      const statusAtOnce = auth.getSnapshot().status
      const token = auth.getAccessToken().then(
        () => 'a token',
        (e) => e.code,
      )
      const fetched = auth.fetch(`${apiUrl}/api/me`).then(
        (r) => `HTTP ${r.status}`,
        (e) => e.code ?? String(e),
      )
      return Promise.all([logout, token, fetched]).then(([, t, f]) => ({ statusAtOnce, token: t, fetch: f }))
    }, api.url)
    assert.deepEqual(out, { statusAtOnce: 'unauthenticated', token: 'login_required', fetch: 'login_required' })
    assert.deepEqual(api.stats.log.map((r) => r.path), [], 'the API saw a request made after logout()')
  }))

/** Runs logout(options) in the page: how the call ended, and the codes it reported through `error`. */
function logoutReporting(page, options) {
  return page.evaluate(async (o) => {
    const errors = []
    window.auth.on('error', ({ error }) => errors.push(error.code))
    try {
      await window.auth.logout(o)
      return { how: 'resolved', errors }
    } catch (e) {
      return { how: 'rejected', code: e?.code, errors }
    }
  }, options)
}

test(name('logout(42) ends the session all the same (reported through error, not thrown)'), { timeout: TIMEOUT }, () =>
  withStack({}, async (servers, newPage) => {
    const page = await newPage()
    await signedIn(page, servers)
    const outcome = await logoutReporting(page, 42)
    // The page may be on its way to the provider's end-session page: a fresh tab tells the session.
    const other = await newPage()
    await other.goto(`${servers.app.origin}/check`)
    await waitForApp(other)
    await other.waitForFunction(() => window.auth.getSnapshot().status !== 'loading')
    assert.equal((await snapshot(other)).status, 'unauthenticated', `logout(42) left the session in the store (${JSON.stringify(outcome)})`)
    assertMatch(outcome, { how: 'resolved', errors: ['configuration_error'] })
  }))

test(name('logout({ localOnly: true, returnTo: null }): reported, and the page lands on the post-logout URI, never on a path /null'), { timeout: TIMEOUT }, () =>
  withStack({}, async (servers, newPage) => {
    const page = await newPage()
    await signedIn(page, servers)
    const before = await page.url()
    const outcome = await logoutReporting(page, { localOnly: true, returnTo: null })
    assertMatch(outcome, { how: 'resolved', errors: ['configuration_error'] })
    await page.waitForURL((u) => u !== before, { timeout: 10_000 })
    assert.equal(await page.url(), servers.postLogoutRedirectUri)
  }))

test(name('auth.fetch(allowed URL, { signal: not an AbortSignal }) rejects with configuration_error, never a bare TypeError'), { timeout: TIMEOUT }, () =>
  withStack({}, async (servers, newPage) => {
    const page = await newPage()
    await signedIn(page, servers)
    const outcomes = await page.evaluate(
      (url) =>
        Promise.all(
          [42, {}, 'x', { aborted: false }].map((signal) =>
            window.auth.fetch(url, { signal }).then(
              (r) => `resolved HTTP ${r.status}`,
              (e) => (window.isOAuthError(e) ? e.code : `${e?.name}: ${e?.message}`),
            ),
          ),
        ),
      `${servers.api.url}/api/me`,
    )
    assert.deepEqual(outcomes, ['configuration_error', 'configuration_error', 'configuration_error', 'configuration_error'])
  }))

test(name('readChallenge() on a challenged response when the parser cannot be loaded: network_error, never a bare TypeError'), { timeout: TIMEOUT }, () =>
  withStack({}, async (servers, newPage) => {
    const page = await freshSignedInPage(servers, newPage)
    servers.app.refuse(PROTOCOL)
    // auth.fetch returns the step-up 401 as it came (its parser cannot load); the app reads it.
    const outcome = await page.evaluate(async (url) => {
      const { readChallenge, isOAuthError } = await import('/dist/index.js')
      const r = await window.auth.fetch(url)
      try {
        return { status: r.status, challenge: (await readChallenge(r)) ?? null }
      } catch (e) {
        return { status: r.status, code: e?.code, isOAuthError: isOAuthError(e), message: String(e?.message) }
      }
    }, `${servers.api.url}/api/strong`)
    assertMatch(outcome, { status: 401, code: 'network_error', isOAuthError: true })
  }))
