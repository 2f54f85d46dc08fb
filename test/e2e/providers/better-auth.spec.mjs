// Better Auth (npm `better-auth` 1.7 with `@better-auth/oauth-provider` and its JWT plugin, in
// memory): an OpenID Provider this project did not write, deployed by support/better-auth.mjs as
// an application would (its handler, the login page the plugin asks the deployer for, CORS for the
// SPA's origin), in real Chromium. What it does differently, and what the SDK does about it:
//
// - The ID token carries no `name`/`email`; they are only in UserInfo (OIDC Core §5.4 allows it,
//   §5.3 UserInfo): with `userInfo: true` the SDK fetches it once per sign-in and merges it.
// - Without a resource indicator its access tokens are opaque: the API of this spec validates them
//   at its UserInfo endpoint (support/userinfo-api.mjs).
// - Revocation only with client authentication (`revocation_endpoint_auth_methods_supported`
//   without `none`): a public client cannot revoke; the SDK does not try. Asserted from metadata.
// - No PAR (no `pushed_authorization_request_endpoint`): an optional feature it lacks, asserted.
// - "web" clients need https redirect URIs on non-loopback hosts: the suite's http://127.0.0.1 app
//   is registered as a "native" client (a deployed SPA on https is "web").
import { expect, test as base } from '@playwright/test'

import { call, openApp, snapshot, token, tokenValues, waitForApp, waitForStatus } from '../support/browser-helpers.mjs'
import { startBetterAuth, startBetterAuthStack } from './support/better-auth.mjs'
import { presentRefreshToken, providerMetadata } from './support/stack.mjs'

const test = base.extend({
  servers: async ({}, use) => {
    const stack = await startBetterAuthStack()
    try {
      await use(stack)
    } finally {
      await stack.close()
    }
  },
})

/** Signs in through the deployer's login page (Better Auth's email/password sign-in). */
async function signInAtBetterAuth(page, servers, { query = '' } = {}) {
  await openApp(page, servers, `/${query}`)
  const authRequest = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(`${servers.provider.issuer}/oauth2/authorize`), { timeout: 30_000 })
  const callback = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(servers.redirectUri), { timeout: 30_000 })
  await page.evaluate(() => {
    void window.auth.login()
  })
  const authorizationUrl = new URL((await authRequest).url())
  await page.waitForURL((u) => u.origin === servers.provider.origin && u.pathname === '/login', { timeout: 30_000 })
  await page.fill('input[name=email]', 'alice@example.com')
  await page.fill('input[name=password]', 'wonderland-1')
  await page.click('#submit')
  const callbackUrl = new URL((await callback).url())
  await waitForApp(page)
  await page.waitForFunction(() => window.__callback !== undefined)
  const result = await page.evaluate(() => window.__callback)
  expect(result, 'sign-in through Better Auth failed').toMatchObject({ ok: true })
  await waitForStatus(page, 'authenticated')
  return { result, authorizationUrl, callbackUrl }
}

const eventsOf = (page, name) =>
  page.evaluate((n) => window.__events.filter((e) => e.name === n).map((e) => ({ code: e.payload?.error?.code, status: e.payload?.error?.status, message: e.payload?.error?.message })), name)
const idTokenClaims = (idToken) => JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url'))

test.describe('Better Auth 1.7 (npm, OAuth provider plugin) as the OpenID Provider', () => {
  test.describe.configure({ timeout: 90_000 })

  test('sign-in through its login page, RFC 9207 iss, name/email only in UserInfo (merged with userInfo: true), auth.fetch, reload', async ({ page, servers }) => {
    const { result, callbackUrl } = await signInAtBetterAuth(page, servers)
    expect(callbackUrl.searchParams.get('iss')).toBe(servers.provider.issuer)
    const { idToken, accessToken } = await tokenValues(page, servers)
    expect(accessToken.split('.'), 'without a resource indicator its access token is opaque, not a JWT').not.toHaveLength(3)
    const claims = idTokenClaims(idToken)
    expect(claims.name, 'Better Auth puts no name in the ID token').toBeUndefined()
    expect(claims.email).toBeUndefined()
    expect(result.user).toMatchObject({ sub: claims.sub, name: 'Alice Liddell', email: 'alice@example.com', iss: servers.provider.issuer })
    expect(servers.provider.stats.userinfo).toBe(1)
    expect(await eventsOf(page, 'error')).toEqual([])

    const me = await call(page, `${servers.api.origin}/api/me`)
    expect(me).toMatchObject({ ok: true, status: 200, body: { sub: claims.sub, email: 'alice@example.com' } })

    await page.reload()
    await waitForApp(page)
    await waitForStatus(page, 'authenticated')
    expect((await snapshot(page)).user).toMatchObject({ name: 'Alice Liddell' })
    expect(servers.provider.stats.userinfo - servers.api.stats.ok, 'UserInfo is fetched once per sign-in, not per page').toBe(1)
    expect(await call(page, `${servers.api.origin}/api/me`)).toMatchObject({ ok: true, status: 200 })
  })

  test('refresh rotates the refresh token; the user keeps the UserInfo claims; a rotated-out token is refused with invalid_grant', async ({ page, servers }) => {
    await signInAtBetterAuth(page, servers)
    const first = await tokenValues(page, servers)
    expect(await token(page, { forceRefresh: true })).toMatchObject({ ok: true })
    const second = await tokenValues(page, servers)
    expect(second.accessToken).not.toBe(first.accessToken)
    expect(second.refreshToken, 'Better Auth rotates refresh tokens').not.toBe(first.refreshToken)
    expect((await snapshot(page)).user).toMatchObject({ name: 'Alice Liddell', email: 'alice@example.com' })
    expect(await call(page, `${servers.api.origin}/api/me`)).toMatchObject({ ok: true, status: 200 })

    const replay = await presentRefreshToken(servers, first.refreshToken)
    expect(replay.status).toBe(400)
    expect(JSON.parse(replay.body).error).toBe('invalid_grant')
  })

  test('logout: no revocation (its metadata lists no "none" there), RP-initiated logout with id_token_hint and a state it returns, checked', async ({ page, servers }) => {
    const md = await providerMetadata(servers)
    expect(md.revocation_endpoint_auth_methods_supported).not.toContain('none')
    await signInAtBetterAuth(page, servers)
    const { idToken } = await tokenValues(page, servers)
    const endSession = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(md.end_session_endpoint), { timeout: 30_000 })
    const back = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(servers.postLogoutRedirectUri), { timeout: 30_000 })
    await page.evaluate(() => {
      void window.auth.logout()
    })
    const end = new URL((await endSession).url())
    expect(end.searchParams.get('id_token_hint')).toBe(idToken)
    const state = end.searchParams.get('state')
    expect(state).toMatch(/^[\w-]{20,}$/)
    const returned = new URL((await back).url())
    expect(returned.searchParams.get('state')).toBe(state)
    await waitForApp(page)
    await waitForStatus(page, 'unauthenticated')
    await expect.poll(() => page.evaluate(() => location.search)).toBe('')
    expect(await eventsOf(page, 'error')).toEqual([])
    expect(servers.provider.stats.revoke).toBe(0)
    expect(servers.provider.stats.endSession).toBe(1)
    expect((await tokenValues(page, servers)).refreshToken).toBeUndefined()
  })

  test('DPoP (offered: dpop_signing_alg_values_supported): DPoP-bound sign-in, UserInfo with a proof, refresh', async ({ page, servers }) => {
    const md = await providerMetadata(servers)
    expect(md.dpop_signing_alg_values_supported).toContain('ES256')
    const dpopHeaders = []
    page.on('request', (r) => {
      if (r.url().startsWith(`${servers.provider.issuer}/oauth2/`)) dpopHeaders.push([new URL(r.url()).pathname, Boolean(r.headers().dpop), r.headers().authorization?.split(' ')[0]])
    })
    const { result } = await signInAtBetterAuth(page, servers, { query: '?dpop=1' })
    expect(result.user).toMatchObject({ name: 'Alice Liddell' })
    expect(dpopHeaders).toContainEqual(['/api/auth/oauth2/token', true, undefined])
    expect(dpopHeaders).toContainEqual(['/api/auth/oauth2/userinfo', true, 'DPoP'])
    expect(await token(page, { forceRefresh: true })).toMatchObject({ ok: true })
    expect((await tokenValues(page, servers)).records.access[0].value.tokenType).toBe('dpop')
  })

  test('CORS: Better Auth itself sends none, also for a trusted origin; the deployer adds them for the SPA', async ({ servers }) => {
    const preflight = (issuer, origin) =>
      fetch(`${issuer}/oauth2/token`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } })
    const discovery = (issuer, origin) => fetch(`${issuer}/.well-known/openid-configuration`, { headers: { origin } })
    const origin = servers.app.origin
    // The suite's deployment (support/better-auth.mjs adds CORS for the SPA's origin only).
    expect((await preflight(servers.provider.issuer, origin)).headers.get('access-control-allow-origin')).toBe(origin)
    expect((await discovery(servers.provider.issuer, origin)).headers.get('access-control-allow-origin')).toBe(origin)
    expect((await discovery(servers.provider.issuer, 'http://other.example')).headers.get('access-control-allow-origin')).toBeNull()
    // The same Better Auth with the SPA's origin trusted but no CORS added by the deployer.
    const bare = await startBetterAuth({ redirectUris: [servers.redirectUri], postLogoutRedirectUris: [servers.postLogoutRedirectUri], trustedOrigins: [origin], corsOrigins: [] })
    try {
      expect((await preflight(bare.issuer, origin)).headers.get('access-control-allow-origin')).toBeNull()
      expect((await discovery(bare.issuer, origin)).headers.get('access-control-allow-origin')).toBeNull()
    } finally {
      await bare.close()
    }
  })

  test('PAR is not offered: its metadata has no pushed_authorization_request_endpoint', async ({ servers }) => {
    const md = await providerMetadata(servers)
    expect(md.pushed_authorization_request_endpoint).toBeUndefined()
    expect(md.require_pushed_authorization_requests).not.toBe(true)
  })
})
