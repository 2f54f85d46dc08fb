// Loading on first need (issue 18, docs/loading.md), in real Chromium with the ESM build in dist/:
// which of the SDK's chunks a page requests, and what happens when one cannot be loaded. The
// chunks are counted where they arrive (the app's static server), never in the SDK.
import { expect, test } from './fixtures.mjs'
import { call, events, openApp, signedIn, snapshot, token, tokenValues, waitForStatus, waitUntilExpiring } from './support/browser-helpers.mjs'

/** The dist/ chunks (file stems: client, protocol, flows, …) the app server sent since `from`. */
function chunksSince(servers, from) {
  return [...new Set(servers.app.requests.slice(from).map((r) => r.path).filter((p) => p.startsWith('/dist/')).map((p) => p.slice('/dist/'.length).replace(/-[\w-]{8}\.js$|\.js$/, '')))].sort()
}

test.describe('with short-lived access tokens', () => {
  // 5 s tokens, refreshed 1 s before expiry.
  test.use({ stack: { provider: { accessTokenTTL: 5 }, appConfig: { refreshLeewaySeconds: 1 } } })
  const LEEWAY = 1

  test('a signed-in page loads only the core to call its API with a Bearer token; the protocol code comes with the first refresh', async ({ page, servers }) => {
    await signedIn(page, servers)
    const mark = servers.app.requests.length
    await page.reload()
    await openApp(page, servers)
    await waitForStatus(page, 'authenticated')
    expect(await call(page, `${servers.api.url}/api/me`)).toMatchObject({ ok: true, status: 200, body: { sub: 'alice' } })
    expect(chunksSince(servers, mark), 'a signed-in reload and an API call').toEqual(['client', 'index'])

    const { accessToken } = await tokenValues(page, servers)
    await waitUntilExpiring(accessToken, LEEWAY)
    const beforeRefresh = servers.app.requests.length
    expect(await call(page, `${servers.api.url}/api/me`)).toMatchObject({ ok: true, status: 200 })
    expect(servers.provider.stats.grants.refresh_token).toBe(1)
    expect(chunksSince(servers, beforeRefresh), 'the first refresh').toEqual(['grants', 'protocol'])
  })

  test('a chunk that cannot be loaded: network_error, the session and its tokens stay, and the next call loads it and refreshes', async ({ page, servers }) => {
    await signedIn(page, servers)
    await page.reload()
    await openApp(page, servers)
    await waitForStatus(page, 'authenticated')
    const before = await tokenValues(page, servers)
    await waitUntilExpiring(before.accessToken, LEEWAY)

    // The network goes away for the protocol chunk (as after a deployment that removed it).
    await page.route(/\/dist\/protocol-[\w-]+\.js$/, (route) => route.abort('internetdisconnected'))
    const offline = await call(page, `${servers.api.url}/api/me`)
    expect(offline).toMatchObject({ ok: false, error: { code: 'network_error', isOAuthError: true } })
    expect(servers.provider.stats.grants.refresh_token ?? 0).toBe(0)
    expect(await snapshot(page)).toMatchObject({ status: 'authenticated', user: { sub: 'alice' } })
    expect((await tokenValues(page, servers)).refreshToken).toBe(before.refreshToken)
    expect(await events(page, 'session_expired')).toEqual([])

    await page.unroute(/\/dist\/protocol-[\w-]+\.js$/)
    // Back online: refreshes back off after a network failure, so the retry may wait for it.
    await expect
      .poll(async () => (await token(page)).ok, { timeout: 20_000, message: 'the protocol chunk was not loaded again after the network came back' })
      .toBe(true)
    expect(servers.provider.stats.grants.refresh_token).toBe(1)
    expect(await call(page, `${servers.api.url}/api/me`)).toMatchObject({ ok: true, status: 200 })
  })
})

test('logout() whose code cannot be loaded still ends the local session everywhere and reports network_error', async ({ page, servers }) => {
  await signedIn(page, servers)
  await page.reload()
  await openApp(page, servers)
  await waitForStatus(page, 'authenticated')
  await page.route(/\/dist\/(flows|protocol|grants)-[\w-]+\.js$/, (route) => route.abort('internetdisconnected'))
  await page.evaluate(() => window.auth.logout())
  await waitForStatus(page, 'unauthenticated')
  expect((await events(page, 'error')).map((e) => e.payload.error.code)).toContain('network_error')
  const left = await tokenValues(page, servers)
  expect(left.refreshToken).toBeUndefined()
  expect(left.accessToken).toBeUndefined()
  expect(new URL(page.url()).origin, 'the page did not leave: the end-session endpoint could not be reached').toBe(servers.app.origin)
})
