// Glewlwyd 2.7 (Debian package `glewlwyd`), an OpenID Provider this project did not write, in
// every engine: sign-in through its own login and consent pages, API calls with its JWT access
// tokens (validated through its JWKS), refresh-token rotation, its bare `400` for a dead refresh
// token, and RP-initiated logout with `state`. Written once against the driver contract
// (README.md); `run.mjs` runs it per engine. The Chromium-only Playwright spec
// (../providers/glewlwyd.spec.mjs) says what Glewlwyd does differently and covers DPoP, PAR and
// UserInfo too; this suite starts the same stack (../providers/support/glewlwyd.mjs).
//
// What the provider did is read from its own log (`Event …` lines: tokens it issued, grants,
// logins), what the API saw from its stats, what the SDK kept from the page's IndexedDB.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { call, events, requireBuild, snapshot, token, tokenValues } from '../support/browser-helpers.mjs'
import { startGlewlwydStack } from '../providers/support/glewlwyd.mjs'
import { presentRefreshToken, providerMetadata } from '../providers/support/stack.mjs'
import { assertMatch, browserPerSuite, loadEngine, waitForApp, waitForStatus } from './suite-helpers.mjs'

const ENGINE = process.env.E2E_ENGINE ?? 'chromium'
const driver = await loadEngine(ENGINE)
// Each test starts a fresh Glewlwyd and loads its login app (a 400 kB script): slow on a loaded machine.
const TIMEOUT = 120_000
/** Glewlwyd's login app renders late on a loaded machine. */
const PAGE_WAIT = 30_000

const name = (s) => `${ENGINE}: Glewlwyd: ${s}`

// One browser for the file; each test a fresh Glewlwyd, app and API (startGlewlwydStack), all on
// 127.0.0.1 and free ports, stopped after the test. (startGlewlwyd fails, never skips, when the
// Debian package is missing: .ci/run installs it.)
const withStack = browserPerSuite(driver, startGlewlwydStack)
/** `body(servers, page, newPage)` with a fresh Glewlwyd stack and a page of the suite's browser. */
const withGlewlwyd = (body) => withStack({}, async (servers, newPage) => body(servers, await newPage(), newPage))

/** Glewlwyd's own log: how many `Event` lines match `pattern` (its record of what it issued). */
const glewlwydEvents = (servers, pattern) => servers.provider.events().filter((l) => pattern.test(l)).length
const ACCESS_TOKEN_ISSUED = /Access token generated for client 'spa-e2e' granted by user 'alice'/
const REFRESH_TOKEN_ISSUED = /Refresh token generated for client 'spa-e2e' granted by user 'alice'/

/**
 * Gives the button of Glewlwyd's login app whose text is `text` an id, so that the driver clicks
 * it with a real input event (its buttons carry no id of their own). Resolves with the id.
 */
async function buttonByText(page, text, id) {
  await page.waitForFunction(
    (t, i) => {
      const button = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === t && !b.disabled)
      if (button) button.id = i
      return button !== undefined
    },
    { args: [text, id], timeout: PAGE_WAIT },
  )
  return `#${id}`
}

/** Signs in through Glewlwyd's own pages: login form, then the consent ("grant") page, then back. */
async function signInAtGlewlwyd(page, servers) {
  requireBuild()
  await page.goto(`${servers.app.origin}/`)
  await waitForApp(page)
  await page.evaluate(() => {
    void window.auth.login()
  })
  await page.waitForURL((u) => u.startsWith(`${servers.provider.origin}/login.html?`), { timeout: PAGE_WAIT })
  const login = new URL(await page.url())
  // The authorization request Glewlwyd sends the user back to once signed in.
  const authorization = new URL(login.searchParams.get('callback_url'))
  assert.equal(`${authorization.origin}${authorization.pathname}`, `${servers.provider.issuer}/auth`)
  assert.equal(authorization.searchParams.get('code_challenge_method'), 'S256')

  await page.waitForFunction(() => document.querySelector('#username') !== null, { timeout: PAGE_WAIT })
  await page.fill('#username', 'alice')
  await page.fill('#password', 'wonderland')
  await page.click('#loginbut')
  // Consent: the scopes as checkboxes (openid is checked and disabled), then "Grant access".
  const grant = await buttonByText(page, 'Grant access', 'e2e-grant')
  for (const box of ['#grant-profile', '#grant-email']) {
    if (!(await page.evaluate((s) => document.querySelector(s).checked, box))) await page.click(box)
  }
  await page.click(grant)
  // The grant is saved (PUT /api/auth/grant/…) once its panel is gone; only then continue.
  await page.waitForFunction(() => document.querySelector('#e2e-grant') === null, { timeout: PAGE_WAIT })
  await page.click(await buttonByText(page, 'Continue', 'e2e-continue'))
  await page.waitForURL((u) => u.startsWith(`${servers.app.origin}/`), { timeout: PAGE_WAIT })
  await waitForApp(page)
  await page.waitForFunction(() => window.__callback !== undefined, { timeout: PAGE_WAIT })
  const result = await page.evaluate(() => window.__callback)
  assertMatch(result, { ok: true }, `sign-in through Glewlwyd failed: ${JSON.stringify(result)}`)
  await waitForStatus(page, 'authenticated')
  return result
}

/** Requests of the current document to `prefix` (Resource Timing: every fetch since it loaded). */
const requestsTo = (page, prefix) =>
  page.evaluate((p) => performance.getEntriesByType('resource').filter((e) => e.name.startsWith(p)).map((e) => e.name), prefix)


test(name('sign-in through its login and consent pages, auth.fetch GET and POST to an API that checks its JWT via its JWKS; a reload restores the session without a token request'), { timeout: TIMEOUT }, () =>
  withGlewlwyd(async (servers, page) => {
    const { issuer } = servers.provider
    const result = await signInAtGlewlwyd(page, servers)
    assertMatch(result.user, { name: 'Alice Liddell', email: 'alice@example.com', iss: issuer, aud: servers.clientId })
    // Glewlwyd issued exactly one access token and one refresh token to this client: the code grant.
    assert.equal(glewlwydEvents(servers, ACCESS_TOKEN_ISSUED), 1)
    assert.equal(glewlwydEvents(servers, REFRESH_TOKEN_ISSUED), 1)
    const signedIn = await tokenValues(page, servers)
    assert.ok(signedIn.accessToken && signedIn.refreshToken && signedIn.idToken, 'the SDK did not keep the three tokens')

    const me = await call(page, `${servers.api.origin}/api/me`)
    assertMatch(me, { ok: true, status: 200, body: { iss: issuer, aud: 'openid profile email' } })
    const echo = await call(page, `${servers.api.origin}/api/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"hello":"glewlwyd"}' })
    assertMatch(echo, { ok: true, status: 200, body: { method: 'POST', body: '{"hello":"glewlwyd"}', contentType: 'application/json', sub: me.body.sub } })
    // The API validated both with Glewlwyd's JWKS (the Bearer token of the sign-in).
    assert.deepEqual(servers.api.stats.log.map((r) => [r.method, r.path, r.scheme, r.status]), [['GET', '/api/me', 'Bearer', 200], ['POST', '/api/echo', 'Bearer', 200]])

    await page.reload()
    await waitForApp(page)
    await waitForStatus(page, 'authenticated')
    assertMatch(await snapshot(page), { status: 'authenticated', user: { name: 'Alice Liddell' } })
    assertMatch(await call(page, `${servers.api.origin}/api/me`), { ok: true, status: 200 })
    // No token request from the reloaded page, none at Glewlwyd, and the same tokens as before.
    const { token_endpoint: tokenEndpoint } = await providerMetadata(servers)
    assert.deepEqual(await requestsTo(page, tokenEndpoint), [], 'the reloaded page asked for a token')
    assert.equal(glewlwydEvents(servers, ACCESS_TOKEN_ISSUED), 1, 'Glewlwyd issued another access token after the reload')
    const reloaded = await tokenValues(page, servers)
    assert.equal(reloaded.accessToken, signedIn.accessToken)
    assert.equal(reloaded.refreshToken, signedIn.refreshToken)
    assert.equal(servers.api.stats.log.at(-1).status, 200)
  }))

test(name('refresh rotates the refresh token (the old one refused at Glewlwyd); a dead refresh token (its bare 400) ends the session'), { timeout: TIMEOUT }, () =>
  withGlewlwyd(async (servers, page) => {
    await signInAtGlewlwyd(page, servers)
    const first = await tokenValues(page, servers)
    assert.ok(first.refreshToken)

    assertMatch(await token(page, { forceRefresh: true }), { ok: true })
    const second = await tokenValues(page, servers)
    assert.notEqual(second.refreshToken, first.refreshToken, 'Glewlwyd rotates refresh tokens (refresh-token-one-use: always)')
    assert.notEqual(second.accessToken, first.accessToken)
    assert.equal(glewlwydEvents(servers, ACCESS_TOKEN_ISSUED), 2, 'one refresh grant at Glewlwyd')
    assertMatch(await call(page, `${servers.api.origin}/api/me`), { ok: true, status: 200 })

    // The rotated-out refresh token, presented to Glewlwyd: a bare 400 (no JSON error body).
    const refused = await presentRefreshToken(servers, first.refreshToken)
    const { body } = refused
    assert.equal(refused.status, 400, 'Glewlwyd accepted a rotated-out refresh token')
    assert.throws(() => JSON.parse(body).error, 'Glewlwyd sends no JSON error body')
    assert.equal(glewlwydEvents(servers, ACCESS_TOKEN_ISSUED), 2)

    // Reuse detection revoked the whole chain: the SDK's current refresh token is dead too, and its
    // next refresh meets the same bare 400. The session ends.
    assertMatch(await token(page, { forceRefresh: true }), { ok: false, error: { code: 'login_required' } })
    await waitForStatus(page, 'unauthenticated')
    const expired = (await events(page, 'session_expired')).map((e) => ({ code: e.payload?.error?.code, status: e.payload?.error?.status }))
    assert.deepEqual(expired, [{ code: 'invalid_grant', status: 400 }])
    assertMatch(await snapshot(page), { status: 'unauthenticated' })
    const after = await tokenValues(page, servers)
    assert.deepEqual([after.accessTokens, after.refreshToken, after.idToken], [[], undefined, undefined], 'the stores still hold tokens')
    // Nothing more is asked with the dead token: getAccessToken rejects at once.
    assertMatch(await token(page), { ok: false, error: { code: 'login_required' } })
    assert.equal(glewlwydEvents(servers, ACCESS_TOKEN_ISSUED), 2)
  }))

/**
 * The status of Glewlwyd's profile API for the browser's cookies (200: its session is alive, 401:
 * none), asked from a page of Glewlwyd's origin (one of its static files), as its own apps ask it.
 */
async function glewlwydSessionStatus(probe, servers) {
  await probe.goto(`${servers.provider.origin}/css/glewlwyd.css`)
  return probe.evaluate(() => fetch('/api/profile_list/', { credentials: 'same-origin' }).then((r) => r.status))
}

test(name('logout: end_session with post_logout_redirect_uri and a fresh state; its session ends and the browser comes back, signed out, the state checked'), { timeout: TIMEOUT }, () =>
  withGlewlwyd(async (servers, page, newPage) => {
    const { origin: opOrigin } = servers.provider
    await signInAtGlewlwyd(page, servers)
    const probe = await newPage()
    assert.equal(await glewlwydSessionStatus(probe, servers), 200, 'no Glewlwyd session after the sign-in')

    await page.evaluate(() => {
      void window.auth.logout()
    })
    // Glewlwyd's end_session sends the browser to its login app, which asks the user to confirm
    // and names where it will go next: there only when the post-logout URI is registered for the
    // client (known from id_token_hint) and `state` is sent (callback_oidc_end_session).
    await page.waitForURL((u) => u.startsWith(`${opOrigin}/`) && new URL(u).searchParams.get('prompt') === 'end_session', { timeout: PAGE_WAIT })
    const prompt = new URL(await page.url())
    assert.equal(prompt.searchParams.get('post_redirect_to'), servers.postLogoutRedirectUri)
    const back = new URL(prompt.searchParams.get('callback_url'))
    assert.equal(`${back.origin}${back.pathname}`, servers.postLogoutRedirectUri)
    const state = back.searchParams.get('state')
    assert.match(state ?? '', /^[\w-]{20,}$/, 'the SDK sent no fresh state')
    await page.waitForFunction(() => /wishes you to close the current session/.test(document.body.textContent), { timeout: PAGE_WAIT })
    await page.click(await buttonByText(page, 'Logout', 'e2e-logout'))

    await page.waitForURL((u) => u.startsWith(`${servers.postLogoutRedirectUri}`), { timeout: PAGE_WAIT })
    await waitForApp(page)
    await waitForStatus(page, 'unauthenticated')
    // The SDK checked the state on return: no error, the pending logout consumed, the state gone
    // from the address bar. (It reports a mismatch from a 0 ms timer set while the app started;
    // timers of equal delay run in order, so once this one has run, that one has.)
    await page.evaluate(() => new Promise((r) => setTimeout(() => r(true), 0)))
    assert.deepEqual(await events(page, 'error'), [])
    assert.equal(new URL(await page.url()).searchParams.get('state'), null)
    assert.deepEqual(await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.endsWith(':logout'))), [], 'the pending logout was not consumed')
    const after = await tokenValues(page, servers)
    assert.deepEqual([after.accessTokens, after.refreshToken, after.idToken], [[], undefined, undefined], 'the stores still hold tokens')
    assertMatch(await token(page), { ok: false, error: { code: 'login_required' } })
    assert.equal(await glewlwydSessionStatus(probe, servers), 401, "Glewlwyd's own session has not ended")

    // A later login() asks Glewlwyd for its form again (prompt=login).
    await page.evaluate(() => {
      void window.auth.login()
    })
    await page.waitForURL((u) => u.startsWith(`${opOrigin}/login.html?`), { timeout: PAGE_WAIT })
    const authorization = new URL(new URL(await page.url()).searchParams.get('callback_url'))
    assert.equal(authorization.searchParams.get('prompt'), 'login')
    await page.waitForFunction(() => document.querySelector('#username') !== null, { timeout: PAGE_WAIT })
  }))
