// Okta recipe (docs/providers/okta.md), proven on the bundled provider shaped as Okta documents:
// a refresh token only with the `offline_access` scope (and the Refresh Token grant enabled for the
// app), no consent prompt needed for it; refresh token rotation for SPAs, with a grace period for
// the old token (Okta: "Refresh access tokens and rotate refresh tokens"). Okta's custom
// authorization servers name one audience per server (`api://default`), so no `resource` parameter.
import { call, events, expect, openApp, signIn, storedRefreshToken, test, token } from './support.mjs'

// Okta's custom authorization server gives every access token its one audience (api://default):
// the bundled provider's default resource stands for it.
const oktaProvider = ({ stack }) => ({ refreshTokenPolicy: 'offline_access_without_consent', defaultResource: () => stack.api?.audience })

test.describe('Okta with the default scope', () => {
  test.use({
    recipe: {
      provider: oktaProvider,
      client: (s) => ({ issuer: s.provider.issuer, apiOrigins: [s.api.origin] }),
    },
  })

  test('offline_access brings a rotating refresh token without prompt=consent', async ({ page, stack }) => {
    await openApp(page, stack)
    const { authorizationUrl, outcome } = await signIn(page, stack)
    expect(authorizationUrl.searchParams.get('scope')).toBe('openid profile email offline_access')
    expect(authorizationUrl.searchParams.get('prompt')).toBeNull()
    expect(outcome.grant).toMatchObject({ refreshToken: true, grantedScope: expect.stringContaining('offline_access') })
    expect(await call(page, `${stack.api.url}/api/me`)).toMatchObject({ status: 200 })
    const before = await storedRefreshToken(page)
    expect((await token(page, { forceRefresh: true })).ok).toBe(true)
    expect(await storedRefreshToken(page)).not.toBe(before)
    expect(stack.provider.stats.refreshTokensConsumed).toBe(1)
    expect(await events(page, 'error')).toEqual([])
  })
})

test.describe('Okta with a scope without offline_access', () => {
  test.use({
    recipe: {
      provider: oktaProvider,
      client: (s) => ({ issuer: s.provider.issuer, apiOrigins: [s.api.origin], scope: 'openid profile email' }),
    },
  })

  test('no refresh token, and the sign-in result says so', async ({ page, stack }) => {
    await openApp(page, stack)
    const { outcome } = await signIn(page, stack)
    expect(outcome.grant).toEqual({ requestedScope: 'openid profile email', grantedScope: expect.any(String), refreshToken: false })
    // Not asked for, so not an error.
    expect(await events(page, 'error')).toEqual([])
  })
})
