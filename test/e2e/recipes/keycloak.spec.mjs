// Keycloak recipe (docs/providers/keycloak.md), proven on the bundled provider shaped as Keycloak
// documents: a normal refresh token comes without `offline_access` and lives with the SSO session
// (it dies at logout); `offline_access` would yield an offline token that outlives the session
// ("is not subject of SSO Session Idle timeout ... valid even after a user logout"); refresh
// tokens are reused unless the realm enables "Revoke Refresh Token"
// (Red Hat build of Keycloak, Server Administration Guide, 6.4 "Offline access",
// https://docs.redhat.com/zh-cn/documentation/red_hat_build_of_keycloak/26.4/html/server_administration_guide/offline-access).
// The audience comes from the client's audience mapper, not from a `resource` parameter.
import { call, expect, openApp, signIn, storedRefreshToken, test, token } from './support.mjs'

test.use({
  recipe: {
    // The audience mapper of the recipe: the bundled provider's default resource stands for it.
    provider: ({ stack }) => ({ rotateRefreshToken: false, bindRefreshTokensToSession: true, defaultResource: () => stack.api?.audience }),
    client: (s) => ({ issuer: s.provider.issuer, scope: 'openid profile email', apiOrigins: [s.api.origin] }),
  },
})

/** A refresh grant with `refreshToken`, sent by Node straight to the provider's token endpoint. */
async function refreshAtProvider(stack, refreshToken) {
  const res = await fetch(`${stack.provider.origin}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: stack.clientOptions.clientId }),
  })
  return { status: res.status, error: (await res.json()).error }
}

test('Keycloak: a session-bound refresh token without offline_access, reused on refresh, revoked at logout before the session ends', async ({ page, stack }) => {
  await openApp(page, stack)
  const { authorizationUrl, outcome } = await signIn(page, stack)
  expect(authorizationUrl.searchParams.get('scope')).toBe('openid profile email')
  expect(outcome).toMatchObject({ ok: true, grant: { refreshToken: true, requestedScope: 'openid profile email' } })
  expect(await call(page, `${stack.api.url}/api/me`)).toMatchObject({ ok: true, status: 200, body: { aud: stack.api.audience } })

  const before = await storedRefreshToken(page)
  expect((await token(page, { forceRefresh: true })).ok).toBe(true)
  expect(await storedRefreshToken(page)).toBe(before)
  // Control: the stored refresh token works from outside the page too (and, not rotated, stays valid).
  expect(await refreshAtProvider(stack, before)).toEqual({ status: 200, error: undefined })

  const endSession = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(`${stack.provider.origin}/session/end`))
  await page.evaluate(() => void window.auth.logout())
  const url = new URL((await endSession).url())
  expect(url.searchParams.get('post_logout_redirect_uri')).toBe(`${stack.app}/logged-out`)
  expect(url.searchParams.has('id_token_hint')).toBe(true)

  // Revoked before the SDK left for the end-session endpoint: one RFC 7009 request with the refresh
  // token, and the token is refused while the provider session still lives (the user has not
  // confirmed the logout yet), so the refusal comes from the revocation, not from the session's end.
  expect(stack.provider.stats.revocations).toBe(1)
  expect(stack.provider.stats.events.filter((e) => e.type === 'revocation')).toMatchObject([{ tokenTypeHint: 'refresh_token' }])
  expect(stack.provider.stats.endSessions).toBe(0)
  expect(await refreshAtProvider(stack, before)).toEqual({ status: 400, error: 'invalid_grant' })

  await page.click('#logout-yes')
  await page.waitForURL(`${stack.app}/logged-out`)
  expect(stack.provider.stats.endSessions).toBe(1)
  // And it stays dead with the session.
  expect(await refreshAtProvider(stack, before)).toEqual({ status: 400, error: 'invalid_grant' })
})
