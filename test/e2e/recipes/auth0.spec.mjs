// Auth0 recipe (docs/providers/auth0.md), proven on the bundled provider shaped as Auth0 documents:
// - the API is named with `audience`, not RFC 8707 `resource`
//   (https://auth0.com/docs/secure/tokens/access-tokens/get-access-tokens: "audience: the unique
//   identifier of the target API"; without it Auth0 issues an opaque token for /userinfo only);
// - a refresh token needs `offline_access` (no consent prompt for a first-party app), and rotation
//   with a reuse interval is a per-application setting
//   (https://auth0.com/docs/secure/tokens/refresh-tokens/configure-refresh-token-rotation);
// - `end_session_endpoint` is in discovery only when the tenant enables "RP-Initiated Logout End
//   Session Endpoint Discovery" (https://auth0.com/docs/authenticate/login/logout/log-users-out-of-auth0);
//   otherwise logout is `/v2/logout?client_id&returnTo`.
// Here discovery hides end_session_endpoint and /v2/logout is the only logout, as on such a tenant.
import { call, expect, openApp, signIn, storedRefreshToken, test, token } from './support.mjs'

test.use({
  recipe: {
    provider: () => ({
      refreshTokenPolicy: 'offline_access_without_consent',
      defaultResourceFrom: 'audience',
      discovery: { transform: ({ end_session_endpoint: _hidden, ...doc }) => doc },
      customLogout: { path: '/v2/logout', returnToParam: 'returnTo' },
    }),
    // The client code of docs/providers/auth0.md, with the tenant's URLs replaced by the local ones.
    client: (s) => ({
      issuer: s.provider.issuer,
      apiOrigins: [s.api.origin],
      authorizationParams: { audience: s.api.audience },
      metadata: { end_session_endpoint: `${s.provider.origin}/v2/logout` },
      endSession: { returnToParameter: 'returnTo', idTokenHint: false },
    }),
  },
})

test('Auth0: audience names the API, offline_access brings a rotating refresh token, logout goes to /v2/logout with returnTo', async ({ page, stack }) => {
  await openApp(page, stack)
  const { authorizationUrl, outcome } = await signIn(page, stack)
  expect(authorizationUrl.searchParams.get('audience')).toBe(stack.api.audience)
  expect(authorizationUrl.searchParams.getAll('resource')).toEqual([])
  expect(outcome).toMatchObject({ ok: true, user: { sub: 'alice' }, grant: { refreshToken: true } })

  // The access token is a JWT for the API named by audience.
  expect(await call(page, `${stack.api.url}/api/me`)).toMatchObject({ ok: true, status: 200, body: { sub: 'alice', aud: stack.api.audience } })

  // Rotation: the refresh grant returns a new refresh token and the SDK keeps the new one.
  const before = await storedRefreshToken(page)
  expect((await token(page, { forceRefresh: true })).ok).toBe(true)
  expect(stack.provider.stats.refreshTokensConsumed).toBe(1)
  const after = await storedRefreshToken(page)
  expect(after).toBeTruthy()
  expect(after).not.toBe(before)

  // Logout: /v2/logout?client_id&returnTo (no post_logout_redirect_uri, no id_token_hint).
  const logoutRequest = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(`${stack.provider.origin}/v2/logout`))
  await page.evaluate(() => void window.auth.logout())
  const logoutUrl = new URL((await logoutRequest).url())
  expect(Object.fromEntries(logoutUrl.searchParams)).toMatchObject({ client_id: stack.clientOptions.clientId, returnTo: `${stack.app}/logged-out` })
  expect(logoutUrl.searchParams.has('post_logout_redirect_uri')).toBe(false)
  expect(logoutUrl.searchParams.has('id_token_hint')).toBe(false)
  await page.waitForURL(`${stack.app}/logged-out`)
  expect(stack.provider.stats.customLogouts).toMatchObject([{ sessionEnded: true }])
  expect(stack.provider.stats.revocations).toBe(1)
})
