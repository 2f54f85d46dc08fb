// The offline_access question (issue 14). OpenID Connect Core §11: "the OP MUST ignore the
// offline_access request unless the Client is using a response_type value that would result in an
// Authorization Code being returned, [and] ... MUST ensure that the prompt parameter contains
// consent unless other conditions for processing the request permitting offline access to the
// requested resources are in place". oidc-provider follows it (lib/actions/authorization/scopes.js
// drops offline_access without prompt=consent), so here the bundled provider issues a refresh token
// only for a granted offline_access: the provider behaves as §11 says, not as a first-party shortcut.
import { call, events, expect, openApp, signIn, test } from './support.mjs'

const strictProvider = { provider: () => ({ refreshTokenPolicy: 'offline_access' }) }

test.describe('the default scope against a provider that follows OIDC Core §11', () => {
  test.use({ recipe: { ...strictProvider, client: (s) => ({ issuer: s.provider.issuer, resource: s.api.audience, apiOrigins: [s.api.origin] }) } })

  test('without offlineAccessConsent: offline_access is dropped, no refresh token, and the app is told (grant + error event)', async ({ page, stack }) => {
    await openApp(page, stack)
    const { authorizationUrl, outcome } = await signIn(page, stack)
    expect(authorizationUrl.searchParams.get('scope')).toBe('openid profile email offline_access')
    expect(authorizationUrl.searchParams.get('prompt')).toBeNull()
    expect(outcome).toMatchObject({ ok: true, user: { sub: 'alice' } })
    // The token response names no scope here (its access token is for the API resource), so the
    // granted scope reads as the requested one (RFC 6749 §5.1): the refresh token is the signal.
    expect(outcome.grant).toEqual({ requestedScope: 'openid profile email offline_access', grantedScope: expect.any(String), refreshToken: false })
    const errors = await events(page, 'error')
    expect(errors).toHaveLength(1)
    expect(errors[0].payload.error.code).toBe('configuration_error')
    expect(errors[0].payload.error.message).toMatch(/offline_access.*no refresh token.*offlineAccessConsent/s)
    expect(stack.provider.stats.grants.authorization_code).toBe(1)
    // The sign-in itself works: the access token reaches the API.
    expect(await call(page, `${stack.api.url}/api/me`)).toMatchObject({ ok: true, status: 200, body: { sub: 'alice' } })
  })
})

test.describe('offlineAccessConsent: true against the same provider', () => {
  test.use({
    recipe: { ...strictProvider, client: (s) => ({ issuer: s.provider.issuer, resource: s.api.audience, apiOrigins: [s.api.origin], offlineAccessConsent: true }) },
  })

  test('prompt=consent is sent, offline_access is granted, a refresh token comes and refreshes', async ({ page, stack }) => {
    await openApp(page, stack)
    const { authorizationUrl, outcome } = await signIn(page, stack)
    expect(authorizationUrl.searchParams.get('prompt')).toBe('consent')
    expect(outcome.ok).toBe(true)
    expect(outcome.grant.refreshToken).toBe(true)
    expect(outcome.grant.grantedScope.split(' ')).toContain('offline_access')
    expect(await events(page, 'error')).toEqual([])
    const refreshed = await page.evaluate(() => window.e2e.token({ forceRefresh: true }))
    expect(refreshed.ok).toBe(true)
    expect(stack.provider.stats.grants.refresh_token).toBe(1)
  })
})
