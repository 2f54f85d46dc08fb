// Glewlwyd 2.7 (Debian package `glewlwyd`): an OpenID Provider this project did not write,
// configured from outside (support/glewlwyd.mjs), in real Chromium through its own login and
// consent pages. What it does differently, and what the SDK does about it:
//
// - Access tokens are RFC 9068 JWTs (typ at+jwt) whose `aud` is the granted scope string
//   ("openid profile email") when no resource indicator is configured: RFC 9068 §3 wants the
//   resource server there. Not the SDK's business (it never reads access tokens); the API of this
//   spec is told that audience.
// - A dead refresh token is refused with a bare `400` (no JSON body): provider non-compliance with
//   RFC 6749 §5.2 (the error response "MUST" be JSON with `error`). The SDK tolerates it: a 400/401
//   from the token endpoint on a refresh is the refresh token's refusal → invalid_grant, the
//   session ends (it used to stay "authenticated" forever with invalid_token_response).
// - Revocation only with client authentication (`revocation_endpoint_auth_methods_supported`:
//   ["client_secret_basic"]): a public client cannot revoke, so the SDK does not try. Optional
//   feature the provider lacks for public clients: asserted from its metadata.
// - RP-initiated logout: the SDK sends a fresh `state` and checks it on return. Glewlwyd 2.7.5
//   returns the browser to post_logout_redirect_uri only when `state` is sent and the URI is in
//   the client's `post_logout_redirect_uris` array, a property its default client back end does
//   not keep (support/glewlwyd.mjs, allowPostLogoutRedirectUris, has the upstream commits): the
//   administrator must declare it. With that, the full round trip runs below.
// - Refresh tokens rotate (plugin setting refresh-token-one-use: always); DPoP (draft 07) and PAR
//   are offered and exercised.
import { expect, test as base } from '@playwright/test'

import { call, openApp, snapshot, token, tokenValues, waitForApp, waitForStatus } from '../support/browser-helpers.mjs'
import { glewlwydInstalled, startGlewlwydStack } from './support/glewlwyd.mjs'
import { presentRefreshToken, providerMetadata } from './support/stack.mjs'

const test = base.extend({
  glewlwyd: [{}, { option: true }],
  servers: async ({ glewlwyd }, use) => {
    if (!glewlwydInstalled()) throw new Error('glewlwyd is not installed (apt-get install glewlwyd; .ci/run installs it)')
    const stack = await startGlewlwydStack({ plugin: glewlwyd.plugin })
    try {
      await use(stack)
    } finally {
      await stack.close()
    }
  },
})

/** Signs in through Glewlwyd's own pages: login form, then the consent ("grant") page. */
async function signInAtGlewlwyd(page, servers, { username = 'alice', password = 'wonderland', query = '' } = {}) {
  await openApp(page, servers, `/${query}`)
  const authRequest = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(`${servers.provider.issuer}/auth`), { timeout: 30_000 })
  await page.evaluate(() => {
    void window.auth.login()
  })
  const authorizationUrl = new URL((await authRequest).url())
  await page.waitForURL((u) => u.pathname === '/login.html')
  // Its login app is a 400 kB script: on a loaded machine it takes a while to render.
  await expect(page.locator('#username')).toBeVisible({ timeout: 30_000 })
  await page.fill('#username', username)
  await page.fill('#password', password)
  await page.click('#loginbut')
  await expect(page.getByRole('button', { name: 'Grant access' })).toBeVisible({ timeout: 30_000 })
  for (const box of await page.locator('input.form-check-input').all()) {
    if (!(await box.isChecked())) await box.check()
  }
  await page.getByRole('button', { name: 'Grant access' }).click()
  await page.getByRole('button', { name: 'Continue' }).click()
  await page.waitForURL((u) => u.origin === servers.app.origin)
  await waitForApp(page)
  await page.waitForFunction(() => window.__callback !== undefined)
  const result = await page.evaluate(() => window.__callback)
  expect(result, 'sign-in through Glewlwyd failed').toMatchObject({ ok: true })
  await waitForStatus(page, 'authenticated')
  return { result, authorizationUrl }
}

const errorEvents = (page, name = 'error') =>
  page.evaluate((n) => window.__events.filter((e) => e.name === n).map((e) => ({ code: e.payload?.error?.code, status: e.payload?.error?.status, message: e.payload?.error?.message })), name)

test.describe('Glewlwyd 2.7 (Debian package) as the OpenID Provider', () => {
  // Its login app is a 400 kB script and each test starts a fresh Glewlwyd: slow on a loaded machine.
  test.describe.configure({ timeout: 120_000 })
  test('sign-in through its login and consent pages, auth.fetch to an API that checks its JWT via its JWKS, reload', async ({ page, servers }) => {
    const { result, authorizationUrl } = await signInAtGlewlwyd(page, servers)
    expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256')
    expect(result.user).toMatchObject({ name: 'Alice Liddell', email: 'alice@example.com', iss: servers.provider.issuer, aud: servers.clientId })

    const me = await call(page, `${servers.api.origin}/api/me`)
    expect(me).toMatchObject({ ok: true, status: 200 })
    expect(me.body.iss ?? me.body.claims?.iss).toBe(servers.provider.issuer)
    expect(servers.api.stats.schemes).toContain('Bearer')

    await page.reload()
    await waitForApp(page)
    await waitForStatus(page, 'authenticated')
    expect((await snapshot(page)).user).toMatchObject({ name: 'Alice Liddell' })
    expect(await call(page, `${servers.api.origin}/api/me`)).toMatchObject({ ok: true, status: 200 })
  })

  test('refresh rotates the refresh token; a dead one is refused with a bare 400 (RFC 6749 §5.2 wants JSON): invalid_grant ends the session', async ({ page, servers }) => {
    await signInAtGlewlwyd(page, servers)
    const first = await tokenValues(page, servers)
    expect(first.refreshToken).toBeTruthy()

    expect(await token(page, { forceRefresh: true })).toMatchObject({ ok: true })
    const second = await tokenValues(page, servers)
    expect(second.refreshToken, 'Glewlwyd rotates refresh tokens (refresh-token-one-use: always)').not.toBe(first.refreshToken)
    expect(second.accessToken).not.toBe(first.accessToken)
    expect(await call(page, `${servers.api.origin}/api/me`)).toMatchObject({ ok: true, status: 200 })

    // The provider itself: the rotated-out token is refused with a bare 400, no OAuth error body.
    const refused = await presentRefreshToken(servers, first.refreshToken)
    const { body } = refused
    expect(refused.status).toBe(400)
    expect(() => JSON.parse(body).error, 'Glewlwyd sends no JSON error body').toThrow()

    // Presenting the rotated-out token made Glewlwyd revoke the whole chain (reuse detection): the
    // SDK's current refresh token is dead too, and its next refresh meets the same bare 400.
    const refresh = await token(page, { forceRefresh: true })
    expect(refresh).toMatchObject({ ok: false, error: { code: 'login_required' } })
    await waitForStatus(page, 'unauthenticated')
    expect(await errorEvents(page, 'session_expired')).toEqual([expect.objectContaining({ code: 'invalid_grant', status: 400 })])
    expect((await tokenValues(page, servers)).refreshToken).toBeUndefined()
    // The session has ended for good: nothing more is sent with the dead token.
    expect(await token(page)).toMatchObject({ ok: false, error: { code: 'login_required' } })
  })

  test('logout: no revocation (its metadata accepts only client_secret_basic there), end_session with id_token_hint, post_logout_redirect_uri and a fresh state; its session ends and the browser comes back with the state', async ({ page, servers }) => {
    const md = await providerMetadata(servers)
    expect(md.revocation_endpoint).toBeTruthy()
    expect(md.revocation_endpoint_auth_methods_supported).not.toContain('none')
    await signInAtGlewlwyd(page, servers)
    const { idToken } = await tokenValues(page, servers)
    // Glewlwyd's own session (its cookie), before the logout.
    const profile = () => page.request.get(`${servers.provider.origin}/api/profile_list/`)
    expect((await profile()).status()).toBe(200)

    const revocations = []
    page.on('request', (r) => {
      if (r.url().startsWith(md.revocation_endpoint)) revocations.push(r.url())
    })
    const endSession = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(md.end_session_endpoint), { timeout: 30_000 })
    await page.evaluate(() => {
      void window.auth.logout()
    })
    const end = new URL((await endSession).url())
    expect(end.searchParams.get('id_token_hint')).toBe(idToken)
    expect(end.searchParams.get('post_logout_redirect_uri')).toBe(servers.postLogoutRedirectUri)
    const state = end.searchParams.get('state')
    expect(state).toMatch(/^[\w-]{20,}$/)

    // The local session ended before the browser left; nothing was revoked (it could not be).
    // Glewlwyd asks the user to confirm the end of its session on its login page, and names the
    // page it will return to (only when post_logout_redirect_uri is registered for the client
    // and `state` is sent: callback_oidc_end_session, src/plugin/protocol_oidc.c).
    const prompt = await page.waitForURL((u) => u.origin === servers.provider.origin && u.searchParams.get('prompt') === 'end_session').then(() => new URL(page.url()))
    expect(prompt.searchParams.get('post_redirect_to')).toBe(servers.postLogoutRedirectUri)
    expect(prompt.searchParams.get('callback_url')).toBe(`${servers.postLogoutRedirectUri}?state=${state}`)
    // ("The client <its name> wishes…" once the login app has loaded the client's name.)
    await expect(page.getByText(/wishes you to close the current session/)).toBeVisible({ timeout: 30_000 })
    const closed = page.waitForResponse((r) => r.request().method() === 'DELETE' && r.url().startsWith(`${servers.provider.issuer}/session/`))
    const back = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(servers.postLogoutRedirectUri), { timeout: 30_000 })
    await page.getByRole('button', { name: /^\W*Logout$/ }).click()
    // Confirming deletes its OIDC session (DELETE /api/oidc/session/:sid) and its own session
    // (DELETE /api/auth/), then sends the browser to post_logout_redirect_uri with the state.
    expect((await closed).status()).toBeLessThan(300)
    expect(new URL((await back).url()).searchParams.get('state')).toBe(state)
    await page.waitForURL((u) => u.origin === servers.app.origin && u.pathname === '/logged-out')
    await waitForApp(page)
    await waitForStatus(page, 'unauthenticated')
    // The SDK checked the state on return: no invalid_state, and the state left the address bar.
    expect(await errorEvents(page)).toEqual([])
    expect(new URL(page.url()).searchParams.get('state')).toBeNull()
    expect(await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.endsWith(':logout'))), 'the pending logout was consumed').toEqual([])
    expect(revocations).toEqual([])
    expect((await tokenValues(page, servers)).refreshToken).toBeUndefined()
    expect((await profile()).status(), 'Glewlwyd\'s own session has ended').toBe(401)

    // A later login() shows Glewlwyd's form again (and asks for it: prompt=login).
    const authRequest = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(`${servers.provider.issuer}/auth`), { timeout: 30_000 })
    await page.evaluate(() => {
      void window.auth.login()
    })
    expect(new URL((await authRequest).url()).searchParams.get('prompt')).toBe('login')
    await page.waitForURL((u) => u.pathname === '/login.html')
    await expect(page.locator('#username')).toBeVisible({ timeout: 30_000 })
  })

  test('opt-in UserInfo: fetched once with the new access token, its sub checked, merged into the user', async ({ page, servers }) => {
    servers.setAppConfig({ userInfo: true })
    const userinfo = []
    page.on('request', (r) => {
      if (r.url().startsWith(`${servers.provider.issuer}/userinfo`)) userinfo.push(r.headers().authorization?.split(' ')[0])
    })
    const { result } = await signInAtGlewlwyd(page, servers)
    expect(userinfo).toEqual(['Bearer'])
    expect(result.user).toMatchObject({ sub: expect.any(String), name: 'Alice Liddell', email: 'alice@example.com' })
    expect(await errorEvents(page)).toEqual([])
    await page.reload()
    await waitForApp(page)
    await waitForStatus(page, 'authenticated')
    expect(userinfo).toHaveLength(1)
  })

  test('DPoP (offered: dpop_signing_alg_values_supported): DPoP-bound tokens through sign-in, API call and refresh', async ({ page, servers }) => {
    const md = await providerMetadata(servers)
    expect(md.dpop_signing_alg_values_supported).toContain('ES256')
    await signInAtGlewlwyd(page, servers, { query: '?dpop=1' })
    const { accessToken } = await tokenValues(page, servers)
    const claims = JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url'))
    expect(claims.cnf?.jkt, 'the access token is bound to the SDK\'s key').toMatch(/^[\w-]{43}$/)
    expect(await call(page, `${servers.api.origin}/api/me`)).toMatchObject({ ok: true, status: 200 })
    expect(servers.api.stats.schemes).toContain('DPoP')
    expect(await token(page, { forceRefresh: true })).toMatchObject({ ok: true })
    expect(await call(page, `${servers.api.origin}/api/me`)).toMatchObject({ ok: true, status: 200 })
  })

  test('PAR (offered: pushed_authorization_request_endpoint): the browser carries only a request_uri', async ({ page, servers }) => {
    const md = await providerMetadata(servers)
    expect(md.pushed_authorization_request_endpoint).toBeTruthy()
    const { authorizationUrl } = await signInAtGlewlwyd(page, servers, { query: '?par=1' })
    expect(authorizationUrl.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/)
    expect(authorizationUrl.searchParams.get('code_challenge')).toBeNull()
    expect(await call(page, `${servers.api.origin}/api/me`)).toMatchObject({ ok: true, status: 200 })
  })
})
