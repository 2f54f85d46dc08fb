// Amazon Cognito recipe (docs/providers/cognito.md), proven on the bundled provider shaped as
// Cognito documents:
// - sign-out is the managed-login `/logout` endpoint with `client_id` and `logout_uri` (one of the
//   app client's "Allowed sign-out URLs"), which discovery does not advertise
//   (https://docs.aws.amazon.com/cognito/latest/developerguide/logout-endpoint.html);
// - `/oauth2/revoke` revokes a public client's refresh token with `token` and `client_id`
//   (https://docs.aws.amazon.com/cognito/latest/developerguide/revocation-endpoint.html);
// - the scopes are openid, email, phone, profile and the resource servers' custom scopes
//   `<resource-server-id>/<scope>`; `offline_access` is not one of them, and a code grant always
//   brings a refresh token; rotation is off unless enabled on the app client
//   (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_RefreshTokenRotationType.html).
import { call, expect, openApp, signIn, storedRefreshToken, test, token } from './support.mjs'

test.use({
  recipe: {
    provider: () => ({
      scopes: ['openid', 'profile', 'email'],
      rotateRefreshToken: false,
      defaultResourceFrom: 'scope',
      discovery: { transform: ({ end_session_endpoint: _a, revocation_endpoint: _b, ...doc }) => doc },
      customLogout: { path: '/logout', returnToParam: 'logout_uri' },
    }),
    resourceScope: (s) => `${s.api.audience}/read`,
    // The client code of docs/providers/cognito.md, with the user pool's URLs replaced by the local ones.
    client: (s) => ({
      issuer: s.provider.issuer,
      scope: `openid profile email ${s.api.audience}/read`,
      apiOrigins: [s.api.origin],
      metadata: {
        end_session_endpoint: `${s.provider.origin}/logout`,
        revocation_endpoint: `${s.provider.origin}/token/revocation`,
      },
      endSession: { returnToParameter: 'logout_uri', idTokenHint: false },
    }),
  },
})

test('Cognito: custom scope for the API, a non-rotating refresh token, revocation and /logout?client_id&logout_uri from the recipe', async ({ page, stack }) => {
  await openApp(page, stack)
  const { authorizationUrl, outcome } = await signIn(page, stack)
  expect(authorizationUrl.searchParams.get('scope')).toBe(`openid profile email ${stack.api.audience}/read`)
  expect(outcome).toMatchObject({ ok: true, grant: { refreshToken: true } })
  expect(await call(page, `${stack.api.url}/api/me`)).toMatchObject({ ok: true, status: 200 })

  // No rotation: the same refresh token is kept after a refresh.
  const before = await storedRefreshToken(page)
  expect((await token(page, { forceRefresh: true })).ok).toBe(true)
  expect(stack.provider.stats.grants.refresh_token).toBe(1)
  expect(await storedRefreshToken(page)).toBe(before)

  const logoutRequest = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(`${stack.provider.origin}/logout`))
  await page.evaluate(() => void window.auth.logout())
  const logoutUrl = new URL((await logoutRequest).url())
  expect(logoutUrl.searchParams.get('client_id')).toBe(stack.clientOptions.clientId)
  expect(logoutUrl.searchParams.get('logout_uri')).toBe(`${stack.app}/logged-out`)
  expect(logoutUrl.searchParams.has('id_token_hint')).toBe(false)
  await page.waitForURL(`${stack.app}/logged-out`)
  expect(stack.provider.stats.customLogouts).toMatchObject([{ sessionEnded: true }])
  // The revocation endpoint from the recipe's metadata was used.
  expect(stack.provider.stats.revocations).toBe(1)
})
