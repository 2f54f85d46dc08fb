// loginWithPopup in real Chromium against the real provider, whose pages send
// Cross-Origin-Opener-Policy: same-origin (it severs window.opener and popup.closed: the flow must
// not need them). The popup completes through the test app's ordinary callback page (app.js calls
// handleRedirectCallback like on any callback; it has no popup code).
import { expect, test } from './fixtures.mjs'
import { launchChromium } from './browser.mjs'
import { call, dumpIndexedDb, openApp, signIn, snapshot, startLogin, submitLogin, waitForApp, waitForStatus, webStorage } from './support/browser-helpers.mjs'
import { clickPopup, loginInPopup, popupOutcome, popupSignIn } from './support/popup-helpers.mjs'

test.use({ stack: { provider: { coop: true } } })

/** Transactions and relay marks the SDK keeps for pending sign-ins. */
async function pending(page) {
  const db = await dumpIndexedDb(page)
  const transactions = Object.values(db).flatMap((d) => d.stores.transactions ?? []).filter((r) => r.key.includes('|txn|'))
  const { localStorage } = await webStorage(page)
  const marks = Object.keys(localStorage).filter((k) => k.includes(':pending:') || k.includes(':relay:'))
  return { transactions: transactions.length, marks }
}

test('signs in in a popup: the page stays, the provider sends COOP, the popup closes itself', async ({ page, servers }) => {
  await openApp(page, servers)
  await waitForStatus(page, 'unauthenticated')
  await page.evaluate(() => (window.__stayed = true))
  const coop = []
  page.context().on('response', (r) => {
    if (r.url().startsWith(servers.provider.issuer)) coop.push(r.headers()['cross-origin-opener-policy'])
  })
  const { popup, outcome } = await popupSignIn(page)
  expect(outcome).toEqual({ ok: true, returnTo: '/', user: expect.objectContaining({ sub: 'alice' }) })
  expect(coop.length).toBeGreaterThan(0)
  expect(coop.every((v) => v === 'same-origin')).toBe(true)
  expect(await page.evaluate(() => window.__stayed)).toBe(true)
  await waitForStatus(page, 'authenticated')
  expect((await call(page, `${servers.api.origin}/api/me`)).status).toBe(200)
  await expect.poll(() => popup.isClosed(), { timeout: 10_000 }).toBe(true)
  expect(await pending(page)).toEqual({ transactions: 0, marks: [] })
})

test('popup_blocked: without a user gesture a real popup blocker refuses; nothing is stored or pending', async ({ servers }) => {
  // Playwright turns Chromium's popup blocker off; this browser keeps it on.
  const browser = await launchChromium({ ignoreDefaultArgs: ['--disable-popup-blocking'] })
  try {
    const browserContext = await browser.newContext()
    const page = await browserContext.newPage()
    // Called by the page itself from a `storage` event another tab causes, once Playwright's own
    // evaluations in this page (they count as user activation, which lasts 5 s) are 6 s old.
    await page.addInitScript(() => {
      addEventListener('storage', (e) => {
        if (e.key === 'e2e-go') window.__blocked = window.e2e.popup()
      })
    })
    await openApp(page, servers)
    const trigger = await browserContext.newPage()
    await openApp(trigger, servers)
    await new Promise((resolve) => setTimeout(resolve, 6000))
    await trigger.evaluate(() => localStorage.setItem('e2e-go', String(Date.now())))
    await page.waitForFunction(() => window.__blocked !== undefined)
    const outcome = await page.evaluate(() => window.__blocked)
    expect(outcome).toMatchObject({ ok: false, error: { code: 'popup_blocked', isOAuthError: true } })
    expect(await pending(page)).toEqual({ transactions: 0, marks: [] })
    expect(servers.provider.stats.requests.authorization).toBeUndefined()
    expect(servers.provider.stats.requests.discovery).toBeUndefined()
    // The same call in a click opens the window at once.
    const popup = await clickPopup(page)
    await loginInPopup(popup)
    expect(await popupOutcome(page)).toMatchObject({ ok: true, user: { sub: 'alice' } })
  } finally {
    await browser.close()
  }
})

test('popup_closed: a popup closed before it reached the provider; its transaction is dropped', async ({ page, servers }) => {
  await openApp(page, servers)
  await waitForStatus(page, 'unauthenticated')
  // Discovery answers slowly: the window is open, the request not built yet.
  servers.provider.faults.set({ mode: 'delay', path: '/.well-known/openid-configuration', method: 'GET', delayMs: 2500, count: 1 })
  const popup = await clickPopup(page)
  await popup.close()
  const outcome = await popupOutcome(page)
  expect(outcome).toMatchObject({ ok: false, error: { code: 'popup_closed' } })
  expect(await pending(page)).toEqual({ transactions: 0, marks: [] })
  expect((await snapshot(page)).status).toBe('unauthenticated')
})

test('timeout: the popup sign-in gives up after timeoutSeconds; a sign-in finished later in it is refused as unknown', async ({ page, servers }) => {
  await openApp(page, servers)
  await waitForStatus(page, 'unauthenticated')
  const popup = await clickPopup(page, { timeoutSeconds: 3 })
  await expect(popup.locator('input[name=login]')).toBeVisible({ timeout: 15_000 })
  const outcome = await popupOutcome(page)
  expect(outcome).toMatchObject({ ok: false, error: { code: 'timeout' } })
  expect(await pending(page)).toEqual({ transactions: 0, marks: [] })
  // The user finishes anyway: the popup lands on the callback page, which is no callback of a
  // pending sign-in any more; nothing is redeemed.
  await submitLogin(popup)
  await popup.waitForURL((u) => u.origin === servers.app.origin)
  await waitForApp(popup)
  expect(await popup.evaluate(() => window.__isCallback)).toBe(false)
  expect(await popup.evaluate(() => window.e2e.handleCallback())).toMatchObject({ ok: false, code: 'invalid_state' })
  expect((await snapshot(page)).status).toBe('unauthenticated')
  expect(servers.provider.stats.grants.authorization_code).toBeUndefined()
})

test('authorization_error: the user cancels at the provider', async ({ page, servers }) => {
  await openApp(page, servers)
  const popup = await clickPopup(page)
  await expect(popup.locator('#deny')).toBeVisible({ timeout: 15_000 })
  await popup.click('#deny')
  const outcome = await popupOutcome(page)
  expect(outcome).toMatchObject({ ok: false, error: { code: 'authorization_error', error: 'access_denied' } })
  await expect.poll(() => popup.isClosed(), { timeout: 10_000 }).toBe(true)
  expect((await snapshot(page)).status).toBe('unauthenticated')
  expect(await pending(page)).toEqual({ transactions: 0, marks: [] })
})

test.describe('without COOP', () => {
test.use({ stack: { provider: { coop: false } } })
test('every callback check applies: a callback with a duplicated code is invalid_callback, nothing redeemed', async ({ page, servers, context }) => {
  await openApp(page, servers)
  const app = servers.app.origin
  // The provider's redirect to the callback gets a second `code`. (Playwright does not route
  // requests that are redirects themselves: the form's POST is routed, and its redirect chain is
  // followed with the context's cookies up to the callback.)
  await context.route((url) => url.href.startsWith(`${servers.provider.issuer}/interaction/`) && url.pathname.endsWith('/login'), async (route) => {
    const login = await route.fetch({ maxRedirects: 0 })
    const resume = login.headers().location
    if (!resume) return route.fulfill({ response: login })
    const back = await context.request.get(new URL(resume, servers.provider.issuer).href, { maxRedirects: 0 })
    const url = new URL(back.headers().location)
    url.searchParams.append('code', 'forged')
    return route.fulfill({ status: 303, headers: { location: url.href } })
  })
  const { outcome } = await popupSignIn(page)
  expect(outcome).toMatchObject({ ok: false, error: { code: 'invalid_callback' } })
  expect(servers.provider.stats.grants.authorization_code).toBeUndefined()
  expect((await snapshot(page)).status).toBe('unauthenticated')
})
})

test('two popups at once in one tab: each completes with its own user; the later sign-in is the session', async ({ page, servers }) => {
  await openApp(page, servers)
  const first = page.waitForEvent('popup')
  await page.evaluate(() => void (window.__p1 = window.e2e.popup()))
  const popup1 = await first
  const second = page.waitForEvent('popup')
  await page.evaluate(() => void (window.__p2 = window.e2e.popup()))
  const popup2 = await second
  await loginInPopup(popup1, { username: 'alice', password: 'wonderland' })
  expect(await page.evaluate(() => window.__p1)).toMatchObject({ ok: true, user: { sub: 'alice' } })
  await loginInPopup(popup2, { username: 'bob', password: 'builder' })
  expect(await page.evaluate(() => window.__p2)).toMatchObject({ ok: true, user: { sub: 'bob' } })
  expect((await snapshot(page)).user.sub).toBe('bob')
  expect(servers.provider.stats.grants.authorization_code).toBe(2)
})

test('a redirect sign-in racing a popup: the popup, its starter gone, completes as an ordinary sign-in; the last sign-in wins', async ({ page, servers }) => {
  await openApp(page, servers)
  const popup = await clickPopup(page)
  await expect(popup.locator('input[name=login]')).toBeVisible({ timeout: 15_000 })
  // The page leaves for a redirect sign-in (as bob) while the popup waits.
  const redirect = await signIn(page, servers, { username: 'bob', password: 'builder' })
  expect(redirect.result).toMatchObject({ ok: true, user: { sub: 'bob' } })
  await waitForStatus(page, 'authenticated')
  // Now the popup's sign-in (alice): nobody acknowledges its relay, so its page completes it.
  await submitLogin(popup)
  await popup.waitForURL((u) => u.origin === servers.app.origin)
  await waitForApp(popup)
  await popup.waitForFunction(() => window.__callback !== undefined, undefined, { timeout: 15_000 })
  expect(await popup.evaluate(() => window.__callback)).toMatchObject({ ok: true, user: { sub: 'alice' } })
  expect(popup.isClosed()).toBe(false)
  await expect.poll(async () => (await snapshot(page)).user?.sub, { timeout: 10_000 }).toBe('alice')
})

test('popups started in two tabs: each tab gets its own result; both tabs end with the later session', async ({ page, servers, context }) => {
  await openApp(page, servers)
  const other = await context.newPage()
  await openApp(other, servers)
  const popupA = await clickPopup(page)
  const popupB = await clickPopup(other)
  await loginInPopup(popupB, { username: 'bob', password: 'builder' })
  expect(await popupOutcome(other)).toMatchObject({ ok: true, user: { sub: 'bob' } })
  await loginInPopup(popupA, { username: 'alice', password: 'wonderland' })
  expect(await popupOutcome(page)).toMatchObject({ ok: true, user: { sub: 'alice' } })
  await expect.poll(async () => (await snapshot(other)).user?.sub, { timeout: 10_000 }).toBe('alice')
  expect((await snapshot(page)).user.sub).toBe('alice')
})
