// Better Auth (npm `better-auth` with `@better-auth/oauth-provider` and its JWT plugin, in memory),
// an OpenID Provider this project did not write, in every engine: sign-in through the login page
// its deployer supplies, name/email only in its UserInfo (merged with `userInfo: true`), RFC 9207
// `iss` on the callback, API calls with its opaque access tokens (the API validates them at its
// UserInfo endpoint), a reload without a token request, refresh-token rotation (the rotated-out
// token refused with `invalid_grant`), and RP-initiated logout with `id_token_hint` and a `state`
// it returns. Written once against the driver contract (README.md); `run.mjs` runs it per engine.
// The Chromium-only Playwright spec (../providers/better-auth.spec.mjs) says what Better Auth
// does differently and covers DPoP, CORS and PAR too; this suite starts the same stack
// (startBetterAuthStack in ../providers/support/better-auth.mjs).
//
// What the provider did is read from its request counts and the end-session queries it received
// (no engine-neutral way to watch a page's requests), what the API saw from its stats, what the
// SDK kept from the page's IndexedDB, which URL a document was loaded from from its Navigation
// Timing entry (the SDK cleans the address bar afterwards).
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { call, events, requireBuild, snapshot, token, tokenValues } from '../support/browser-helpers.mjs'
import { BETTER_AUTH_USERS, startBetterAuthStack } from '../providers/support/better-auth.mjs'
import { presentRefreshToken, providerMetadata } from '../providers/support/stack.mjs'
import { assertMatch, browserPerSuite, loadEngine, waitForApp, waitForStatus } from './suite-helpers.mjs'

const ENGINE = process.env.E2E_ENGINE ?? 'chromium'
const driver = await loadEngine(ENGINE)
// Each test starts a fresh Better Auth (in memory: it hashes the user's password at start-up).
const TIMEOUT = 90_000
const PAGE_WAIT = 30_000
const ALICE = BETTER_AUTH_USERS[0]

const name = (s) => `${ENGINE}: Better Auth: ${s}`

// One browser for the file; each test a fresh Better Auth, app and API, all on 127.0.0.1 and free
// ports, stopped after the test.
const withStack = browserPerSuite(driver, startBetterAuthStack)
/** `body(servers, page, newPage)` with a fresh Better Auth stack and a page of the suite's browser. */
const withBetterAuth = (body) => withStack({}, async (servers, newPage) => body(servers, await newPage(), newPage))

/** The URL the current document was loaded from (its Navigation Timing entry), query included. */
const loadedFrom = async (page) => new URL(await page.evaluate(() => performance.getEntriesByType('navigation')[0].name))

/** Requests of the current document to `prefix` (Resource Timing: every fetch since it loaded). */
const requestsTo = (page, prefix) =>
  page.evaluate((p) => performance.getEntriesByType('resource').filter((e) => e.name.startsWith(p)).map((e) => e.name), prefix)

const idTokenClaims = (idToken) => JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url'))

/**
 * Signs in through the deployer's login page (Better Auth's email/password sign-in) and back.
 * Returns { result, loginUrl, callbackUrl }: the callback outcome, the login page's URL (the
 * authorization request Better Auth passed on) and the URL the callback document was loaded from.
 */
async function signInAtBetterAuth(page, servers) {
  requireBuild()
  await page.goto(`${servers.app.origin}/`)
  await waitForApp(page)
  await page.evaluate(() => {
    void window.auth.login()
  })
  await page.waitForURL((u) => u.startsWith(`${servers.provider.origin}/login?`), { timeout: PAGE_WAIT })
  const loginUrl = new URL(await page.url())
  await page.fill('input[name=email]', ALICE.email)
  await page.fill('input[name=password]', ALICE.password)
  await page.click('#submit')
  await page.waitForURL((u) => u.startsWith(servers.redirectUri), { timeout: PAGE_WAIT })
  await waitForApp(page)
  await page.waitForFunction(() => window.__callback !== undefined, { timeout: PAGE_WAIT })
  const result = await page.evaluate(() => window.__callback)
  assertMatch(result, { ok: true }, `sign-in through Better Auth failed: ${JSON.stringify(result)}`)
  await waitForStatus(page, 'authenticated')
  return { result, loginUrl, callbackUrl: await loadedFrom(page) }
}

test(name('sign-in through its login page, RFC 9207 iss, name/email only in UserInfo (merged with userInfo: true), auth.fetch to an API that checks its opaque token at UserInfo; a reload restores the session without a token request'), { timeout: TIMEOUT }, () =>
  withBetterAuth(async (servers, page) => {
    const { issuer } = servers.provider
    const { result, loginUrl, callbackUrl } = await signInAtBetterAuth(page, servers)
    // The authorization request Better Auth handed to its login page: this client, PKCE S256.
    assert.equal(loginUrl.searchParams.get('client_id'), servers.clientId)
    assert.equal(loginUrl.searchParams.get('code_challenge_method'), 'S256')
    // RFC 9207: Better Auth names itself on the callback; the SDK accepted it.
    assert.equal(`${callbackUrl.origin}${callbackUrl.pathname}`, servers.redirectUri)
    assert.equal(callbackUrl.searchParams.get('iss'), issuer)
    assert.ok(callbackUrl.searchParams.get('code'), 'no code on the callback')

    const signedIn = await tokenValues(page, servers)
    assert.ok(signedIn.accessToken && signedIn.refreshToken && signedIn.idToken, 'the SDK did not keep the three tokens')
    assert.notEqual(signedIn.accessToken.split('.').length, 3, 'without a resource indicator its access token is opaque, not a JWT')
    const claims = idTokenClaims(signedIn.idToken)
    assert.deepEqual([claims.name, claims.email], [undefined, undefined], 'Better Auth now puts name/email in the ID token')
    // name/email reached the user only through UserInfo, fetched once (by the SDK) for the sign-in.
    assertMatch(result.user, { sub: claims.sub, name: ALICE.name, email: ALICE.email, iss: issuer, aud: servers.clientId })
    assert.equal(servers.provider.stats.userinfo, 1, 'the SDK did not ask UserInfo exactly once')
    assert.equal(servers.provider.stats.token, 1, 'one token request: the code grant')
    assert.deepEqual(await events(page, 'error'), [])

    const me = await call(page, `${servers.api.origin}/api/me`)
    assertMatch(me, { ok: true, status: 200, body: { sub: claims.sub, email: ALICE.email, name: ALICE.name } })
    // The API validated the Bearer token at Better Auth's UserInfo (its second UserInfo request).
    assert.deepEqual([servers.api.stats.ok, servers.api.stats.unauthorized, servers.api.stats.schemes], [1, 0, ['Bearer']])
    assert.equal(servers.provider.stats.userinfo, 2)

    await page.reload()
    await waitForApp(page)
    await waitForStatus(page, 'authenticated')
    assertMatch(await snapshot(page), { status: 'authenticated', user: { name: ALICE.name, email: ALICE.email } })
    assertMatch(await call(page, `${servers.api.origin}/api/me`), { ok: true, status: 200, body: { sub: claims.sub } })
    // No token request from the reloaded page, none at Better Auth, the same tokens as before, and
    // UserInfo asked only by the API since (once per sign-in, not per page).
    const { token_endpoint: tokenEndpoint } = await providerMetadata(servers)
    assert.deepEqual(await requestsTo(page, tokenEndpoint), [], 'the reloaded page asked for a token')
    assert.equal(servers.provider.stats.token, 1, 'Better Auth saw another token request after the reload')
    const reloaded = await tokenValues(page, servers)
    assert.equal(reloaded.accessToken, signedIn.accessToken)
    assert.equal(reloaded.refreshToken, signedIn.refreshToken)
    assert.deepEqual([servers.api.stats.ok, servers.provider.stats.userinfo], [2, 3], 'UserInfo asked again by the SDK after the reload')
  }))

test(name('refresh rotates the refresh token (the rotated-out one refused at Better Auth with invalid_grant); the user keeps the UserInfo claims'), { timeout: TIMEOUT }, () =>
  withBetterAuth(async (servers, page) => {
    await signInAtBetterAuth(page, servers)
    const first = await tokenValues(page, servers)
    assert.ok(first.refreshToken, 'no refresh token after the sign-in')
    assert.equal(servers.provider.stats.token, 1)

    assertMatch(await token(page, { forceRefresh: true }), { ok: true })
    assert.equal(servers.provider.stats.token, 2, 'one refresh grant at Better Auth')
    const second = await tokenValues(page, servers)
    assert.ok(second.refreshToken, 'no refresh token after the refresh')
    assert.notEqual(second.refreshToken, first.refreshToken, 'Better Auth rotates refresh tokens')
    assert.notEqual(second.accessToken, first.accessToken)
    // Better Auth sends a new ID token with the refresh, again without name/email: the session
    // keeps the claims only UserInfo gave.
    assert.notEqual(second.idToken, first.idToken, 'no new ID token with the refresh')
    assert.deepEqual([idTokenClaims(second.idToken).name, idTokenClaims(second.idToken).email], [undefined, undefined])
    assertMatch(await snapshot(page), { status: 'authenticated', user: { name: ALICE.name, email: ALICE.email } })
    assert.deepEqual(await events(page, 'error'), [])
    // The new access token is good at the API (checked at Better Auth's UserInfo).
    assertMatch(await call(page, `${servers.api.origin}/api/me`), { ok: true, status: 200, body: { email: ALICE.email } })
    assert.equal(servers.api.stats.ok, 1)

    // The rotated-out refresh token, posted to Better Auth from Node: refused, invalid_grant.
    const replay = await presentRefreshToken(servers, first.refreshToken)
    assert.equal(replay.status, 400, 'Better Auth accepted a rotated-out refresh token')
    assert.equal(JSON.parse(replay.body).error, 'invalid_grant')
  }))

/** Better Auth's own session for the browser's cookies, asked from a page of its origin (null: none). */
async function betterAuthSession(probe, servers) {
  await probe.goto(`${servers.provider.origin}/login`)
  return probe.evaluate(() => fetch('/api/auth/get-session', { credentials: 'same-origin' }).then((r) => r.json()))
}

test(name('logout: no revocation (no "none" among its revocation auth methods), RP-initiated logout with id_token_hint and a state it returns, checked; back signed out, no error'), { timeout: TIMEOUT }, () =>
  withBetterAuth(async (servers, page, newPage) => {
    const md = await providerMetadata(servers)
    assert.ok(!md.revocation_endpoint_auth_methods_supported.includes('none'), 'Better Auth now lets public clients revoke')
    await signInAtBetterAuth(page, servers)
    const { idToken } = await tokenValues(page, servers)
    const probe = await newPage()
    assertMatch(await betterAuthSession(probe, servers), { user: { email: ALICE.email } }, 'no Better Auth session after the sign-in')

    await page.evaluate(() => {
      void window.auth.logout()
    })
    await page.waitForURL((u) => u.startsWith(servers.postLogoutRedirectUri), { timeout: PAGE_WAIT })
    // What the SDK sent to Better Auth's end-session endpoint (recorded by the provider).
    assert.equal(servers.provider.endSessionRequests.length, 1, 'not one end-session request')
    const sent = servers.provider.endSessionRequests[0]
    assert.equal(sent.id_token_hint, idToken)
    assert.equal(sent.post_logout_redirect_uri, servers.postLogoutRedirectUri)
    assert.match(sent.state ?? '', /^[\w-]{20,}$/, 'the SDK sent no fresh state')
    // Better Auth sent the browser back with that state.
    const back = await loadedFrom(page)
    assert.equal(`${back.origin}${back.pathname}`, servers.postLogoutRedirectUri)
    assert.equal(back.searchParams.get('state'), sent.state)

    await waitForApp(page)
    await waitForStatus(page, 'unauthenticated')
    // The SDK checked the state on return: no error (it reports a mismatch from a 0 ms timer set
    // while the app started; once this later one has run, that one has), the pending logout
    // consumed, the state gone from the address bar.
    await page.evaluate(() => new Promise((r) => setTimeout(() => r(true), 0)))
    assert.deepEqual(await events(page, 'error'), [])
    await page.waitForFunction(() => location.search === '', { timeout: PAGE_WAIT })
    assert.deepEqual(await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.endsWith(':logout'))), [], 'the pending logout was not consumed')
    const after = await tokenValues(page, servers)
    assert.deepEqual([after.accessTokens, after.refreshToken, after.idToken], [[], undefined, undefined], 'the stores still hold tokens')
    assertMatch(await token(page), { ok: false, error: { code: 'login_required' } })
    assert.deepEqual([servers.provider.stats.revoke, servers.provider.stats.endSession], [0, 1])
    assert.equal(await betterAuthSession(probe, servers), null, "Better Auth's own session has not ended")
  }))
