// Silent renewal (silentRenew: 'iframe') in real Chromium against the real provider. The app and
// the provider are on two ports of 127.0.0.1: same site, so the provider's session cookie reaches
// the hidden iframe. The refresh token is refused with a real invalid_grant answer (the provider's
// token endpoint, switched by the test), which is when the SDK renews silently.
import { expect, test } from './fixtures.mjs'
import { call, events, openApp, signedIn, snapshot, token, waitForApp, waitForStatus } from './support/browser-helpers.mjs'
import { refuseNextRefresh } from './support/hostile-helpers.mjs'
import { watchAuthorizationRequests } from './support/popup-helpers.mjs'

test.use({ stack: { csp: { frameAncestors: "'self'" }, appConfig: { silentRenew: 'iframe' } } })

const frames = (page) => page.evaluate(() => document.querySelectorAll('iframe').length)

test('a refused refresh token: a prompt=none sign-in in a hidden iframe, same user, the session goes on', async ({ page, servers, context }) => {
  await signedIn(page, servers)
  const before = (await token(page)).token
  const other = await context.newPage()
  await openApp(other, servers)
  await waitForStatus(other, 'authenticated')
  const auths = watchAuthorizationRequests(context, servers)
  refuseNextRefresh(servers)
  const renewed = await token(page, { forceRefresh: true })
  expect(renewed).toMatchObject({ ok: true })
  expect(renewed.token).not.toBe(before)
  expect(auths).toHaveLength(1)
  expect(auths[0].get('prompt')).toBe('none')
  expect(servers.provider.stats.grantErrors.refresh_token).toBeUndefined() // the fault answered, not the provider
  expect(servers.provider.stats.grants.authorization_code).toBe(2)
  expect((await snapshot(page)).status).toBe('authenticated')
  expect(await frames(page)).toBe(0)
  expect((await call(page, `${servers.api.origin}/api/me`)).status).toBe(200)
  expect(await events(page, 'session_expired')).toHaveLength(0)
  // The other tab adopts the renewed tokens: no refresh and no renewal of its own.
  servers.resetStats()
  expect((await call(other, `${servers.api.origin}/api/me`)).status).toBe(200)
  expect(servers.provider.stats.grants).toEqual({})
  expect(await token(other)).toEqual(renewed)
})

test('the provider session is gone: login_required from the iframe ends the session with that reason', async ({ page, servers, context }) => {
  await signedIn(page, servers)
  await context.clearCookies()
  refuseNextRefresh(servers)
  const out = await token(page, { forceRefresh: true })
  expect(out).toMatchObject({ ok: false, error: { code: 'login_required' } })
  await waitForStatus(page, 'unauthenticated')
  const [expired] = await events(page, 'session_expired')
  expect(expired.payload.error).toMatchObject({ code: 'authorization_error', error: 'login_required' })
  expect(await frames(page)).toBe(0)
})

test('another user at the provider: the renewal is refused and the session ends', async ({ page, servers, context }) => {
  await signedIn(page, servers)
  // In another tab, bob signs in at the provider (its callback is left unhandled: the SDK's
  // session stays alice's, the provider's is now bob's).
  const other = await context.newPage()
  await openApp(other, servers, '/?callback=manual')
  await other.evaluate(() => void window.auth.login({ prompt: 'login' }))
  await other.waitForURL((u) => u.href.startsWith(`${servers.provider.issuer}/interaction/`))
  await other.fill('input[name=login]', 'bob')
  await other.fill('input[name=password]', 'builder')
  await other.click('#submit')
  await other.waitForURL((u) => u.origin === servers.app.origin)
  await waitForApp(other)
  refuseNextRefresh(servers)
  const out = await token(page, { forceRefresh: true })
  expect(out).toMatchObject({ ok: false, error: { code: 'login_required' } })
  await waitForStatus(page, 'unauthenticated')
  const [expired] = await events(page, 'session_expired')
  expect(expired.payload.error.message).toContain('another user')
})

test.describe('a provider that refuses framing', () => {
  test.use({ stack: { csp: { frameAncestors: "'self'" }, appConfig: { silentRenew: 'iframe' }, provider: { refuseFraming: true } } })
  test('ends the session with the framing refusal as the cause', async ({ page, servers }) => {
    await signedIn(page, servers)
    refuseNextRefresh(servers)
    const out = await token(page, { forceRefresh: true })
    expect(out).toMatchObject({ ok: false, error: { code: 'login_required' } })
    const [expired] = await events(page, 'session_expired')
    expect(expired.payload.error.message).toContain('refuses framing')
    expect(servers.provider.stats.events.some((e) => e.type === 'framing.refused')).toBe(true)
    expect(servers.provider.stats.grants.authorization_code).toBe(1)
  })
})

test.describe('a provider that does not answer', () => {
  test.use({ stack: { csp: { frameAncestors: "'self'" }, appConfig: { silentRenew: 'iframe', requestTimeoutSeconds: 3 } } })
  test('ends the session with timeout as the cause', async ({ page, servers, context }) => {
    await signedIn(page, servers)
    // The silent authorization request never gets an answer (held in the browser's network stack;
    // the provider's switch is busy refusing the refresh).
    const held = []
    await context.route((url) => url.href.startsWith(`${servers.provider.issuer}/auth?`) && url.searchParams.get('prompt') === 'none', (route) => void held.push(route))
    refuseNextRefresh(servers)
    const out = await token(page, { forceRefresh: true })
    // The caller stops waiting after requestTimeoutSeconds (the session's rule), as the renewal does.
    expect(out.ok).toBe(false)
    expect(['login_required', 'timeout']).toContain(out.error.code)
    expect(held).toHaveLength(1)
    await waitForStatus(page, 'unauthenticated')
    await expect.poll(async () => (await events(page, 'session_expired')).length).toBe(1)
    const [expired] = await events(page, 'session_expired')
    expect(expired.payload.error).toMatchObject({ code: 'timeout' })
    expect(await frames(page)).toBe(0)
  })
})

test('one renewal at a time across tabs: the waiting tab adopts the renewed tokens', async ({ page, servers, context }) => {
  await signedIn(page, servers)
  const other = await context.newPage()
  await openApp(other, servers)
  await waitForStatus(other, 'authenticated')
  const auths = watchAuthorizationRequests(context, servers)
  refuseNextRefresh(servers)
  const [a, b] = await Promise.all([token(page, { forceRefresh: true }), token(other, { forceRefresh: true })])
  expect(a).toMatchObject({ ok: true })
  expect(b).toMatchObject({ ok: true })
  expect(a.token).toBe(b.token)
  expect(auths.filter((p) => p.get('prompt') === 'none')).toHaveLength(1)
  expect(servers.provider.stats.grants.authorization_code).toBe(2)
})

test.describe('restoreOnLoad', () => {
  test.use({ stack: { csp: { frameAncestors: "'self'" }, appConfig: { silentRenew: 'iframe', restoreOnLoad: true, storage: 'memory' } } })
  test('a page with no stored session signs in silently before it reports a status; not after a logout', async ({ page, servers }) => {
    await signedIn(page, servers)
    // Memory storage: a reload loses the session, the provider's session stays.
    await page.reload()
    await waitForApp(page)
    await waitForStatus(page, 'authenticated', 15_000)
    const statuses = await page.evaluate(() => window.__snapshots.map((s) => s.status))
    expect(statuses).not.toContain('unauthenticated')
    expect((await snapshot(page)).user.sub).toBe('alice')
    expect((await call(page, `${servers.api.origin}/api/me`)).status).toBe(200)
    // After a local logout the page does not sign itself back in.
    await page.evaluate(() => window.auth.logout({ localOnly: true }))
    servers.resetStats()
    await page.reload()
    await waitForApp(page)
    await waitForStatus(page, 'unauthenticated')
    expect(servers.provider.stats.requests.authorization).toBeUndefined()
  })
})
