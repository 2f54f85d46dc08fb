// Google recipe (docs/providers/google.md). What Google documents:
// - its discovery document lists `scopes_supported: ["openid", "email", "profile"]`: no
//   `offline_access` (https://developers.google.com/identity/openid-connect/reference);
// - a refresh token comes only with `access_type=offline` (and, for a repeat grant, `prompt=consent`)
//   ("Using OAuth 2.0 for Web Server Applications", https://developers.google.com/accounts/docs/OAuth),
//   and Google's refresh grant does not rotate it;
// - that flow is for "applications that can securely store confidential information": a "Web
//   application" client authenticates at the token endpoint with its client secret, PKCE or not.
// A page cannot keep a secret. So the recipe is: do not connect the SPA to Google directly; put a
// provider in between that federates Google (Auth0, Cognito, Keycloak, Entra External ID, Okta…)
// and use that provider's recipe, or use a back end that holds the secret. The first test shows how
// a direct connection fails (cleanly, with nothing stored); the second shows what the SDK does with
// Google-shaped metadata (the default scope drops offline_access; access_type=offline via
// authorizationParams; no rotation), which is what a federating set-up passes through unchanged.
import { events, expect, openApp, signIn, storedRefreshToken, test, token } from './support.mjs'

const googleShaped = () => ({
  scopes: ['openid', 'email', 'profile'],
  refreshTokenPolicy: 'access_type_offline',
  rotateRefreshToken: false,
})

test.describe('a Google "Web application" client (client secret required at the token endpoint)', () => {
  test.use({
    recipe: {
      provider: googleShaped,
      clientEntry: { clientSecret: 'kept-on-a-server-never-in-a-page' },
      client: (s) => ({ issuer: s.provider.issuer }),
    },
  })

  test('the SPA\'s code exchange is refused (invalid_client): sign-in fails, nothing is stored', async ({ page, stack }) => {
    await openApp(page, stack)
    const { outcome } = await signIn(page, stack)
    expect(outcome.ok).toBe(false)
    expect(outcome.error).toBe('invalid_client')
    expect(stack.provider.stats.errors.invalid_client).toBe(1)
    expect(await page.evaluate(() => window.e2e.snapshot().status)).toBe('unauthenticated')
    expect(await storedRefreshToken(page)).toBeUndefined()
  })
})

test.describe('Google-shaped metadata with the default scope', () => {
  test.use({
    recipe: {
      provider: googleShaped,
      client: (s) => ({ issuer: s.provider.issuer, authorizationParams: { access_type: 'offline' } }),
    },
  })

  test('offline_access is left out (not in scopes_supported), access_type=offline brings a refresh token that does not rotate', async ({ page, stack }) => {
    await openApp(page, stack)
    const { authorizationUrl, outcome } = await signIn(page, stack)
    expect(authorizationUrl.searchParams.get('scope')).toBe('openid profile email')
    expect(authorizationUrl.searchParams.get('access_type')).toBe('offline')
    expect(outcome).toMatchObject({ ok: true, grant: { requestedScope: 'openid profile email', refreshToken: true } })
    expect(await events(page, 'error')).toEqual([])
    const before = await storedRefreshToken(page)
    expect((await token(page, { forceRefresh: true })).ok).toBe(true)
    expect(await storedRefreshToken(page)).toBe(before)
  })
})

test.describe('Google-shaped metadata without access_type=offline', () => {
  test.use({ recipe: { provider: googleShaped, client: (s) => ({ issuer: s.provider.issuer }) } })

  test('no refresh token; the sign-in result says so', async ({ page, stack }) => {
    await openApp(page, stack)
    const { outcome } = await signIn(page, stack)
    expect(outcome).toMatchObject({ ok: true, grant: { refreshToken: false } })
  })
})
