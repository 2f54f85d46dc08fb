// Without the Web Locks API (Safari < 15.4, Firefox < 96), simulated by deleting
// `navigator.locks` before any script of the page runs. Tabs then coordinate refreshes through
// the SDK's IndexedDB lease (src/session/idb-lock.ts). Real Chromium, real provider, real API.
import { expect, test } from './fixtures.mjs'
import { callTogether, openApp, signedIn, token, tokenValues, waitForStatus, waitUntilExpiring } from './support/browser-helpers.mjs'

const LEEWAY = 1

test.use({ stack: { provider: { accessTokenTTL: 5 }, appConfig: { refreshLeewaySeconds: LEEWAY } } })

test.beforeEach(async ({ context }) => {
  await context.addInitScript(() => {
    delete Navigator.prototype.locks
    delete navigator.locks
  })
})

/** Safari < 15.4 has neither Web Locks nor BroadcastChannel: tabs then hear nothing from each other. */
const withoutBroadcastChannel = (context) => context.addInitScript(() => {
  delete window.BroadcastChannel
})

async function openTab(context, servers) {
  const tab = await context.newPage()
  await openApp(tab, servers, '/')
  await waitForStatus(tab, 'authenticated')
  return tab
}

for (const variant of ['no Web Locks', 'no Web Locks and no BroadcastChannel (Safari < 15.4)']) {
  test(`${variant}: two tabs with an expired token call auth.fetch at once: one refresh grant, both stay signed in`, async ({ page, context, servers }) => {
    const { provider, api } = servers
    const noChannel = variant.includes('BroadcastChannel')
    if (noChannel) await withoutBroadcastChannel(context)
    await signedIn(page, servers)
    const tabB = await openTab(context, servers)
    expect(await page.evaluate(() => 'locks' in navigator), 'navigator.locks is still there').toBe(false)
    expect(await tabB.evaluate(() => 'locks' in navigator)).toBe(false)
    expect(await tabB.evaluate(() => typeof BroadcastChannel)).toBe(noChannel ? 'undefined' : 'function')
    const before = await tokenValues(page, servers)
    await waitUntilExpiring(before.accessToken, LEEWAY)
    servers.resetStats()

    const [a, b] = await callTogether([page, tabB], `${api.url}/api/me`)
    expect(Math.abs(a.started - b.started), 'the two calls did not start together').toBeLessThan(100)

    expect(a.result).toMatchObject({ ok: true, status: 200 })
    expect(b.result).toMatchObject({ ok: true, status: 200 })
    expect(provider.stats.grants).toEqual({ refresh_token: 1 })
    expect(provider.stats.errors).toEqual({})
    expect(provider.stats.grantsRevoked).toBe(0)
    expect(api.stats.unauthorized).toEqual({})

    const [ta, tb] = await Promise.all([token(page), token(tabB)])
    expect(ta.ok && tb.ok).toBe(true)
    expect(ta.token === tb.token, 'the tabs hold different access tokens').toBe(true)
    expect(ta.token === before.accessToken, 'the access token was not refreshed').toBe(false)
    for (const p of [page, tabB]) expect(await p.evaluate(() => window.auth.getSnapshot().status)).toBe('authenticated')
  })
}

test('no Web Locks: a tab closed while it holds the lock does not hold it forever: the other tab refreshes once after the lease expires', async ({ page, context, servers }) => {
  const { provider, api } = servers
  await signedIn(page, servers)
  const tabB = await openTab(context, servers)
  servers.resetStats()

  // Tab A takes the lock for a refresh whose request never leaves the tab (its fetch of the token
  // endpoint hangs), then is closed. (A request that reached the provider before the tab closed
  // would have rotated the refresh token for good: no lock can save the grant then.)
  await page.evaluate((tokenUrl) => {
    const realFetch = window.fetch
    window.__tokenCalls = 0
    window.fetch = (input, init) => {
      const url = input instanceof Request ? input.url : String(input)
      if (url.startsWith(tokenUrl)) {
        window.__tokenCalls++
        return new Promise(() => {})
      }
      return realFetch(input, init)
    }
  }, `${provider.issuer}/token`)
  const pending = page.evaluate(() => window.auth.getAccessToken({ forceRefresh: true }).catch(() => undefined)).catch(() => 'closed')
  await page.waitForFunction(() => window.__tokenCalls === 1)
  await page.close({ runBeforeUnload: false })
  expect(await pending).toBe('closed')

  const t0 = Date.now()
  const result = await tabB.evaluate(async () => {
    const r = await window.auth.getAccessToken({ forceRefresh: true }).then((t) => ({ ok: true, t }), (e) => ({ ok: false, code: e.code }))
    return r.ok ? { ok: true } : r
  })
  const waited = Date.now() - t0
  expect(result).toEqual({ ok: true })
  // The closed tab's lease (10 s, renewed every 2 s) kept tab B out until it expired, not forever.
  expect(waited, 'tab B did not wait for the dead tab\'s lease').toBeGreaterThan(3_000)
  expect(waited, 'tab B waited longer than a lease lives').toBeLessThan(15_000)
  expect(provider.stats.grants).toEqual({ refresh_token: 1 })
  expect(provider.stats.errors).toEqual({})
  const me = await tabB.evaluate((url) => window.e2e.call(url), `${api.url}/api/me`)
  expect(me, JSON.stringify(me)).toMatchObject({ ok: true, status: 200 })
  expect(await tabB.evaluate(() => window.auth.getSnapshot().status)).toBe('authenticated')
})
