// Microsoft Entra ID recipe (docs/providers/entra-id.md), proven on the bundled provider shaped as
// Entra's multi-tenant endpoint:
// - the `common` discovery document's issuer is the template
//   `https://login.microsoftonline.com/{tenantid}/v2.0`; each ID token's `iss` is the user's tenant
//   issuer and its `tid` claim names that tenant (Microsoft identity platform, "ID token claims
//   reference" and "OpenID Connect on the Microsoft identity platform"). The SDK checks
//   `iss` = template with `{tenantid}` := `tid`; it never skips the check;
// - no `resource` parameter on the v2.0 endpoint: the API rides in the scope (`api://…/name`);
// - no revocation endpoint in discovery; refresh tokens sent to a "spa" redirect URI expire after
//   24 hours and refreshed ones keep that expiry
//   (https://learn.microsoft.com/en-nz/entra/identity-platform/refresh-tokens).
// Here the provider's own issuer is `<origin>/<tenant-id>/v2.0`, and `<origin>/common/v2.0` serves
// the templated discovery document.
import { DB_NAME, dumpIndexedDb, tokenStoreRecords, webStorage } from '../support/browser-helpers.mjs'
import { TENANT_ID, call, expect, openApp, signIn, test, token } from './support.mjs'

/** The Entra-shaped provider; `tid` is the claim every account carries. */
const entraProvider = (tid) => () => ({
  refreshTokenPolicy: 'offline_access_without_consent',
  issuerPath: `/${TENANT_ID}/v2.0`,
  accountClaims: { tid },
  defaultResourceFrom: 'scope',
  // Entra's authorization responses carry no RFC 9207 `iss`, and its discovery does not offer it.
  authorizationResponseIss: false,
  discovery: {
    aliases: ['/common/v2.0/.well-known/openid-configuration'],
    transform: ({ revocation_endpoint: _none, authorization_response_iss_parameter_supported: _iss, ...doc }) => ({ ...doc, issuer: doc.issuer.replace(TENANT_ID, '{tenantid}') }),
  },
})

/** The client code of docs/providers/entra-id.md, with login.microsoftonline.com replaced by the local provider. */
const entraClient = (s) => ({
  issuer: `${s.provider.origin}/common/v2.0`,
  issuerTemplate: `${s.provider.origin}/{tenantid}/v2.0`,
  scope: `openid profile email offline_access ${s.api.audience}/access_as_user`,
  apiOrigins: [s.api.origin],
})

const resourceScope = (s) => `${s.api.audience}/access_as_user`

test.describe('Entra ID multi-tenant', () => {
  test.use({ recipe: { provider: entraProvider(TENANT_ID), client: entraClient, resourceScope } })

  test('the templated issuer is checked against tid; the API scope brings its token; no revocation at logout', async ({ page, stack }) => {
    await openApp(page, stack)
    const { authorizationUrl, outcome } = await signIn(page, stack)
    expect(authorizationUrl.searchParams.getAll('resource')).toEqual([])
    expect(outcome).toMatchObject({ ok: true, user: { sub: 'alice', tid: TENANT_ID, iss: `${stack.provider.origin}/${TENANT_ID}/v2.0` } })
    expect(outcome.grant.refreshToken).toBe(true)
    expect(await call(page, `${stack.api.url}/api/me`)).toMatchObject({ ok: true, status: 200, body: { aud: stack.api.audience } })
    // A refreshed ID token is checked the same way (and must keep iss, sub, aud: OIDC Core §12.2).
    expect((await token(page, { forceRefresh: true })).ok).toBe(true)
    expect(stack.provider.stats.grants.refresh_token).toBe(1)

    const endSession = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(`${stack.provider.origin}/session/end`))
    await page.evaluate(() => void window.auth.logout())
    expect(new URL((await endSession).url()).searchParams.get('post_logout_redirect_uri')).toBe(`${stack.app}/logged-out`)
    // Discovery has no revocation_endpoint: nothing was sent there.
    expect(stack.provider.stats.requests.revocation).toBeUndefined()
  })
})

test.describe('Entra ID: an ID token whose tid names another tenant than its iss', () => {
  test.use({ recipe: { provider: entraProvider('00000000-0000-4000-8000-000000000000'), client: entraClient, resourceScope } })

  test('is refused: the sign-in fails and nothing is stored', async ({ page, stack }) => {
    // The provider's token answer, as the page received it: the secrets that must be stored nowhere.
    const answers = []
    page.on('response', (r) => {
      if (r.request().method() === 'POST' && r.url().startsWith(stack.provider.origin) && new URL(r.url()).pathname.endsWith('/token')) {
        answers.push(r.json().catch((e) => ({ unreadable: String(e) })))
      }
    })
    await openApp(page, stack)
    const { outcome } = await signIn(page, stack)
    expect(outcome).toMatchObject({ ok: false })
    expect(outcome.message).toMatch(/iss/)
    expect(await page.evaluate(() => window.e2e.snapshot().status)).toBe('unauthenticated')

    // The code was redeemed: the SDK held real tokens, and refused them after the exchange.
    expect(stack.provider.stats.grants).toEqual({ authorization_code: 1 })
    const [answer, ...more] = await Promise.all(answers)
    expect(more).toEqual([])
    const secrets = [answer.access_token, answer.id_token, answer.refresh_token]
    expect(secrets.every((s) => typeof s === 'string' && s.length > 20), `token answer: ${Object.keys(answer)}`).toBe(true)

    // Nothing stored: no record in the SDK's token stores, no DPoP key, no transaction left, and
    // none of the issued tokens anywhere in IndexedDB, web storage, cookies or the URL.
    expect(await tokenStoreRecords(page)).toEqual({ access_tokens: [], id_tokens: [], refresh_tokens: [] })
    const dump = await dumpIndexedDb(page)
    const stores = dump[DB_NAME]?.stores ?? {}
    expect(stores.dpop_keys ?? []).toEqual([])
    expect(stores.transactions ?? []).toEqual([])
    const web = await webStorage(page)
    const found = (haystack) => secrets.filter((s) => JSON.stringify(haystack).includes(s)).length
    expect(found(dump), 'an issued token in IndexedDB').toBe(0)
    expect(found(web), 'an issued token in localStorage, sessionStorage, a cookie or the URL').toBe(0)
    expect(await token(page)).toMatchObject({ ok: false, error: { code: 'login_required' } })
    // A reload reads the stores again: still no session.
    await openApp(page, stack)
    await page.waitForFunction(() => window.e2e.snapshot().status !== 'loading')
    expect(await page.evaluate(() => window.e2e.snapshot().status)).toBe('unauthenticated')
    expect(stack.provider.stats.grants).toEqual({ authorization_code: 1 })
  })
})

test.describe('Entra ID without issuerTemplate', () => {
  test.use({ recipe: { provider: entraProvider(TENANT_ID), client: (s) => ({ ...entraClient(s), issuerTemplate: undefined }), resourceScope } })

  test('discovery is refused (its issuer is not the configured one): the check is real, not skipped', async ({ page, stack }) => {
    await openApp(page, stack)
    const error = await page.evaluate(() => window.auth.login().then(() => 'navigated', (e) => ({ code: e.code, message: e.message })))
    expect(error).toMatchObject({ code: 'configuration_error' })
    expect(error.message).toMatch(/issuer/)
  })
})
