// Step-up (RFC 9470) and scope challenges (RFC 6750) against the real provider, configured with
// two ACR values, and the real test API: /api/strong wants acr urn:oauth-spa:mfa and a recent
// auth_time, /api/write wants the scope api:write. The provider's pages send COOP.
import { expect, test } from './fixtures.mjs'
import { call, openApp, signedIn, snapshot, waitForStatus } from './support/browser-helpers.mjs'
import { loginInPopup, watchAuthorizationRequests } from './support/popup-helpers.mjs'

const PWD = 'urn:oauth-spa:pwd'
const MFA = 'urn:oauth-spa:mfa'

test.use({ stack: { provider: { acrValues: [PWD, MFA], coop: true } } })

/** auth.fetch(url) started in the page; returns the pending evaluation. */
const startCall = (page, url) => page.evaluate((u) => window.e2e.call(u), url)

test('stepUp none: the challenges come back as they came, and readChallenge names what they ask', async ({ page, servers }) => {
  await signedIn(page, servers)
  expect((await call(page, `${servers.api.origin}/api/me`)).body.acr).toBe(PWD)
  let popups = 0
  page.on('popup', () => popups++)

  const strong = await page.evaluate((u) => window.e2e.challenge(u), `${servers.api.origin}/api/strong`)
  expect(strong).toEqual({
    ok: true,
    status: 401,
    challenge: {
      scheme: 'bearer',
      error: 'insufficient_user_authentication',
      errorDescription: 'a stronger authentication is required',
      acrValues: [MFA],
      maxAge: 300,
      resourceMetadata: `${servers.api.origin}/.well-known/oauth-protected-resource`,
    },
  })
  const write = await page.evaluate((u) => window.e2e.challenge(u), `${servers.api.origin}/api/write`)
  expect(write).toMatchObject({ ok: true, status: 403, challenge: { scheme: 'bearer', error: 'insufficient_scope', scope: 'api:write' } })
  const me = await page.evaluate((u) => window.e2e.challenge(u), `${servers.api.origin}/api/me`)
  expect(me).toEqual({ ok: true, status: 200, challenge: null })
  expect(popups).toBe(0)
  expect(servers.api.stats.byRoute['/api/strong']).toBe(1)
})

test.describe('stepUp popup', () => {
  test.use({ stack: { provider: { acrValues: [PWD, MFA], coop: true }, appConfig: { stepUp: 'popup' } } })

  test('an acr challenge signs in again in a popup with acr_values and max_age, and the request is retried once', async ({ page, servers, context }) => {
    await signedIn(page, servers)
    const auths = watchAuthorizationRequests(context, servers)
    const popupEvent = page.waitForEvent('popup')
    const pending = startCall(page, `${servers.api.origin}/api/strong`)
    const popup = await popupEvent
    // The provider's session has acr pwd: it asks for a new login.
    await loginInPopup(popup)
    const result = await pending
    expect(result).toMatchObject({ ok: true, status: 200, body: { acr: MFA, sub: 'alice' } })
    expect(auths).toHaveLength(1)
    expect(auths[0].get('acr_values')).toBe(MFA)
    expect(auths[0].get('max_age')).toBe('300')
    expect(servers.api.stats.byRoute['/api/strong']).toBe(2)
    expect((await snapshot(page)).user.acr).toBe(MFA)
    // The popup closed itself (COOP severed it from this page: nobody else could).
    await expect.poll(() => popup.isClosed()).toBe(true)
  })

  test('a max_age challenge: an authentication older than max_age is asked for again', async ({ page, servers, context }) => {
    await signedIn(page, servers, { acrValues: MFA })
    const first = await call(page, `${servers.api.origin}/api/strong`)
    expect(first.status).toBe(200)
    const before = first.body.auth_time
    servers.api.stepUp.maxAge = 2
    await new Promise((r) => setTimeout(r, 3200))
    const auths = watchAuthorizationRequests(context, servers)
    const popupEvent = page.waitForEvent('popup')
    const pending = startCall(page, `${servers.api.origin}/api/strong`)
    const popup = await popupEvent
    await loginInPopup(popup)
    const result = await pending
    expect(result).toMatchObject({ ok: true, status: 200, body: { acr: MFA } })
    expect(result.body.auth_time).toBeGreaterThan(before)
    expect(auths[0].get('max_age')).toBe('2')
  })

  test('a scope challenge: the popup asks for the union of scopes, the provider consents without a form, the retry has the scope', async ({ page, servers, context }) => {
    await signedIn(page, servers)
    const auths = watchAuthorizationRequests(context, servers)
    let forms = 0
    context.on('request', (r) => {
      if (r.url().startsWith(`${servers.provider.issuer}/interaction/`) && r.method() === 'POST') forms++
    })
    const result = await call(page, `${servers.api.origin}/api/write`)
    expect(result, JSON.stringify(result)).toMatchObject({ ok: true, status: 200 })
    expect(result.body.scope.split(' ')).toContain('api:write')
    expect(auths).toHaveLength(1)
    expect(auths[0].get('scope').split(' ').sort()).toEqual(['api:write', 'email', 'offline_access', 'openid', 'profile'])
    expect(forms).toBe(0)
    expect(servers.api.stats.byRoute['/api/write']).toBe(2)
  })

  test('a challenge the new token still meets is returned, not looped', async ({ page, servers }) => {
    await signedIn(page, servers)
    // The API asks for a scope the provider never grants.
    servers.api.stepUp.scope = 'api:admin'
    let popups = 0
    page.on('popup', () => popups++)
    const first = await call(page, `${servers.api.origin}/api/write`)
    expect(first).toMatchObject({ ok: true, status: 403 })
    expect(first.wwwAuthenticate).toContain('insufficient_scope')
    expect(popups).toBe(1)
    expect(servers.api.stats.byRoute['/api/write']).toBe(2)
    // And again: the session already asked for the scope; no second popup.
    const second = await call(page, `${servers.api.origin}/api/write`)
    expect(second).toMatchObject({ ok: true, status: 403 })
    expect(popups).toBe(1)
  })
})

test.describe('stepUp redirect', () => {
  test.use({ stack: { provider: { acrValues: [PWD, MFA] }, appConfig: { stepUp: 'redirect' } } })

  test('a scope challenge signs in again through a redirect that returns to the current location', async ({ page, servers }) => {
    await signedIn(page, servers)
    await page.evaluate(() => history.replaceState(null, '', '/orders/7?tab=items#top'))
    const app = servers.app.origin
    const back = page.waitForURL((u) => u.origin === app && u.pathname === '/callback', { timeout: 15_000 })
    void page.evaluate((u) => window.e2e.call(u), `${servers.api.origin}/api/write`).catch(() => undefined)
    await back
    await page.waitForFunction(() => window.__callback !== undefined)
    const outcome = await page.evaluate(() => window.__callback)
    expect(outcome).toMatchObject({ ok: true, returnTo: '/orders/7?tab=items#top' })
    await waitForStatus(page, 'authenticated')
    const retry = await call(page, `${servers.api.origin}/api/write`)
    expect(retry).toMatchObject({ ok: true, status: 200 })
  })
})

test('login({ acrValues }) refuses an ID token whose acr is not one of them', async ({ page, servers }) => {
  await openApp(page, servers)
  // The provider knows no such class: it signs in with its weakest one.
  const issuer = servers.provider.issuer
  await page.evaluate(() => void window.auth.login({ acrValues: ['urn:oauth-spa:hardware'] }))
  await page.waitForURL((u) => u.href.startsWith(`${issuer}/interaction/`))
  await page.fill('input[name=login]', 'alice')
  await page.fill('input[name=password]', 'wonderland')
  await page.click('#submit')
  await page.waitForURL((u) => u.origin === servers.app.origin)
  await page.waitForFunction(() => window.__callback !== undefined)
  const outcome = await page.evaluate(() => window.__callback)
  expect(outcome).toMatchObject({ ok: false, code: 'invalid_token_response' })
  expect(outcome.message).toContain('acr')
  await waitForStatus(page, 'unauthenticated')
})
