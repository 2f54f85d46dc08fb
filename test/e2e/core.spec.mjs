// Core end-to-end scenarios: real Chromium, the SDK's standalone bundle in the test app, a real
// OpenID Provider and a real API. Only the SDK's public API is used (window.auth); grants are
// counted at the provider (servers.provider.stats), never in the SDK.
import { decodeJwt } from 'jose'

import { expect, test } from './fixtures.mjs'
import {
  callbackOutcome,
  dumpIndexedDb,
  events,
  openApp,
  readTokens,
  signIn,
  signedIn,
  startLogin,
  submitLogin,
  tokenValues,
  waitForApp,
  waitForStatus,
  waitUntilExpiring,
  webStorage,
  DB_NAME,
  TOKEN_STORES,
  call,
  snapshot,
  token,
  tokenStoreRecords,
  confirmProviderLogout,
  openSignedInTab,
  callTogether,
} from './support/browser-helpers.mjs'
import { refresh } from './support/node-client.mjs'
import { recordRequests } from './support/hostile-helpers.mjs'


/**
 * Starts `getAccessToken({ forceRefresh: true })` in `tab` and holds the provider's answer: the
 * request has reached the provider (the grant has rotated) but the tab has not seen the answer.
 * Resolves once it is held; `release()` lets it through and resolves with 'ok' or the error code.
 */
async function refreshWithHeldAnswer(tab, servers) {
  const url = `${servers.provider.issuer}/token`
  let open
  const gate = new Promise((r) => (open = r))
  let held = 0
  await tab.route(url, async (route) => {
    const response = await route.fetch()
    held++
    await gate
    await route.fulfill({ response })
  })
  const refresh = tab.evaluate(() => window.auth.getAccessToken({ forceRefresh: true }).then(() => 'ok', (e) => e.code))
  await expect.poll(() => held).toBe(1)
  return {
    release: async () => {
      open()
      const outcome = await refresh
      await tab.unroute(url)
      return outcome
    },
  }
}

test('a. sign-in round trip: login() → provider form → callback → user and returnTo; auth.fetch reaches the API', async ({ page, servers }) => {
  const { provider, api } = servers
  await openApp(page, servers, '/')
  await waitForStatus(page, 'unauthenticated')

  const { result, authorizationUrl } = await signIn(page, servers, { returnTo: '/after-login?tab=2' })
  expect(result).toMatchObject({ ok: true, returnTo: '/after-login?tab=2', user: { sub: 'alice' } })
  const auth = new URL(authorizationUrl)
  expect(auth.searchParams.get('code_challenge_method')).toBe('S256')
  expect(auth.searchParams.getAll('resource')).toEqual([api.audience])

  await waitForStatus(page, 'authenticated')
  expect((await snapshot(page)).user).toMatchObject({ sub: 'alice' })
  expect(await page.evaluate(() => window.auth.getUser()?.sub)).toBe('alice')

  const me = await call(page, `${api.url}/api/me`)
  expect(me).toMatchObject({ ok: true, status: 200, body: { sub: 'alice', aud: api.audience, iss: provider.issuer, client_id: servers.clientId } })
  expect(api.stats.schemes).toEqual(['Bearer'])

  const echo = await call(page, `${api.url}/api/echo`, { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } })
  expect(echo).toMatchObject({ ok: true, status: 200, body: { method: 'POST', body: 'hello', contentType: 'text/plain', sub: 'alice' } })

  expect(provider.stats.logins.ok).toBe(1)
  expect(provider.stats.grants).toEqual({ authorization_code: 1 })
  expect(provider.stats.errors).toEqual({})
  expect((await events(page, 'login')).length).toBe(1)
  // One discovery, by the page that started the sign-in: the callback page used the metadata kept
  // with the transaction and went straight to the token request.
  expect(provider.stats.requests.discovery, 'discovery requests').toBe(1)
})

test('b. tokens live in separate IndexedDB stores and nowhere else; the callback parameters leave the address bar', async ({ page, context, servers }) => {
  await signedIn(page, servers)

  const { accessToken, refreshToken, idToken, records } = await tokenValues(page, servers)
  expect(records.access).toHaveLength(1)
  expect(records.refresh).toHaveLength(1)
  expect(records.id).toHaveLength(1)
  expect(accessToken.split('.')).toHaveLength(3)
  expect(typeof refreshToken).toBe('string')
  expect(refreshToken.length).toBeGreaterThan(20)
  expect(decodeJwt(idToken).sub).toBe('alice')
  expect(records.id[0].value.claims).toMatchObject({ sub: 'alice' })
  // the token the SDK hands out is the stored one
  const handedOut = await token(page)
  expect(handedOut.ok && handedOut.token === accessToken, 'getAccessToken() differs from the stored access token').toBe(true)

  // each secret only in its own store, in no other store of any database of the origin
  const dump = records.dump
  const home = { [accessToken]: 'access_tokens', [refreshToken]: 'refresh_tokens', [idToken]: 'id_tokens' }
  for (const [secret, own] of Object.entries(home)) {
    for (const [dbName, db] of Object.entries(dump)) {
      for (const [storeName, rows] of Object.entries(db.stores)) {
        if (dbName === DB_NAME && storeName === own) continue
        expect(JSON.stringify(rows).includes(secret), `${own} value found in ${dbName}/${storeName}`).toBe(false)
      }
    }
    // within its own store, the access token is only in `token`, the refresh token only in `token`
  }
  expect(JSON.stringify(dump[DB_NAME].stores.access_tokens).includes(refreshToken)).toBe(false)
  expect(JSON.stringify(dump[DB_NAME].stores.refresh_tokens).includes(accessToken)).toBe(false)

  // nothing in localStorage, sessionStorage, cookies (incl. HttpOnly, via the context) or the URL
  const web = await webStorage(page)
  const cookies = await context.cookies(servers.app.origin)
  const elsewhere = JSON.stringify({ web, cookies })
  for (const [secret, own] of Object.entries(home)) {
    expect(elsewhere.includes(secret), `${own} value found outside IndexedDB`).toBe(false)
    expect(elsewhere.includes(secret.slice(0, 24)), `a prefix of the ${own} value found outside IndexedDB`).toBe(false)
  }
  const url = new URL(web.href)
  for (const p of ['code', 'state', 'iss', 'session_state']) expect(url.searchParams.has(p), `address bar still has ${p}`).toBe(false)
  expect(url.hash).toBe('')
})

test('c. a reload restores the session from IndexedDB without any token request', async ({ page, servers }) => {
  const { provider, api } = servers
  await signedIn(page, servers)
  servers.resetStats()

  await page.goto(`${servers.app.origin}/`)
  await waitForApp(page)
  await waitForStatus(page, 'authenticated')
  const statuses = await page.evaluate(() => window.__snapshots.map((s) => s.status))
  expect(statuses.indexOf('unauthenticated'), `status went through 'unauthenticated' on reload: ${statuses.join(' → ')}`).toBe(-1)
  expect((await snapshot(page)).user).toMatchObject({ sub: 'alice' })

  const me = await call(page, `${api.url}/api/me`)
  expect(me).toMatchObject({ ok: true, status: 200, body: { sub: 'alice' } })
  expect(provider.stats.requests.token ?? 0).toBe(0)
  expect(provider.stats.grants).toEqual({})
})

test.describe('with short-lived access tokens', () => {
  // 5 s tokens, refreshed 1 s before expiry: a test waits ~4 s for the token to need a refresh
  test.use({ stack: { provider: { accessTokenTTL: 5 }, appConfig: { refreshLeewaySeconds: 1 } } })
  const LEEWAY = 1

  test('d. an expiring token leads to exactly one refresh grant, and the rotated-out refresh token is refused', async ({ page, servers }) => {
    const { provider, api } = servers
    await signedIn(page, servers)
    const before = await tokenValues(page, servers)
    expect(before.refreshToken).toBeTruthy()
    await waitUntilExpiring(before.accessToken, LEEWAY)
    servers.resetStats()

    const me = await call(page, `${api.url}/api/me`)
    expect(me).toMatchObject({ ok: true, status: 200, body: { sub: 'alice' } })
    expect(provider.stats.grants).toEqual({ refresh_token: 1 })
    expect(provider.stats.errors).toEqual({})
    expect(api.stats.unauthorized, 'the expiring token was sent instead of being refreshed first').toEqual({})
    expect((await events(page, 'token_refreshed')).length).toBe(1)
    const grant = provider.stats.events.find((e) => e.type === 'grant.success')
    test.info().annotations.push({ type: 'refresh grant seen at the provider', description: JSON.stringify(grant) })
    expect(grant).toMatchObject({ grantType: 'refresh_token', accessTokenFormat: 'jwt', audience: api.audience, origin: servers.app.origin })

    const after = await tokenValues(page, servers)
    expect(after.refreshToken).toBeTruthy()
    expect(after.refreshToken === before.refreshToken, 'the refresh token was not rotated in the store').toBe(false)
    expect(after.accessToken === before.accessToken, 'the access token was not replaced in the store').toBe(false)
    expect(decodeJwt(after.accessToken).exp).toBeGreaterThan(decodeJwt(before.accessToken).exp)

    // the old refresh token, posted to the token endpoint from outside the browser
    const reuse = await refresh(provider.issuer, { clientId: servers.clientId, refreshToken: before.refreshToken })
    expect(reuse.status).toBe(400)
    expect(reuse.json.error).toBe('invalid_grant')
  })

  test('e. 50 concurrent auth.fetch calls with an expiring token: one refresh grant, all 50 succeed', async ({ page, servers }) => {
    const { provider, api } = servers
    await signedIn(page, servers)
    const before = await tokenValues(page, servers)
    await waitUntilExpiring(before.accessToken, LEEWAY)
    servers.resetStats()

    const results = await page.evaluate(async (url) => Promise.all(Array.from({ length: 50 }, (_, i) => window.e2e.call(`${url}?i=${i}`))), `${api.url}/api/me`)
    const statuses = results.map((r) => (r.ok ? r.status : r.error?.code))
    expect(statuses).toEqual(Array(50).fill(200))
    expect(provider.stats.grants).toEqual({ refresh_token: 1 })
    expect(provider.stats.errors).toEqual({})
    expect(api.stats.unauthorized).toEqual({})
    expect(api.stats.requests).toBe(50)
  })

  test('f. two tabs with an expiring token call auth.fetch at the same time: one refresh grant in total, no invalid_grant', async ({ page, context, servers }) => {
    const { provider, api } = servers
    await signedIn(page, servers)
    const tabB = await openSignedInTab(context, servers)
    const before = await tokenValues(page, servers)
    await waitUntilExpiring(before.accessToken, LEEWAY)
    servers.resetStats()

    const [a, b] = await callTogether([page, tabB], `${api.url}/api/me`)
    expect(Math.abs(a.started - b.started), 'the two calls did not start together').toBeLessThan(100)

    expect(a.result).toMatchObject({ ok: true, status: 200 })
    expect(b.result).toMatchObject({ ok: true, status: 200 })
    expect(provider.stats.grants).toEqual({ refresh_token: 1 })
    expect(provider.stats.errors).toEqual({})
    expect(api.stats.unauthorized).toEqual({})

    // both tabs now hold the one new access token
    const [ta, tb] = await Promise.all([token(page), token(tabB)])
    expect(ta.ok && tb.ok).toBe(true)
    expect(ta.token === tb.token, 'the tabs hold different access tokens').toBe(true)
    expect(ta.token === before.accessToken, 'the access token was not refreshed').toBe(false)
  })
})

test('g. no token leaves for a foreign origin: not to the echo server, not through an API redirect', async ({ page, servers }) => {
  const { api, echo } = servers
  await signedIn(page, servers)

  // control: the echo server does see an Authorization header when one is sent
  const control = await page.evaluate((url) => fetch(url, { headers: { Authorization: 'Bearer control-not-a-token' } }).then((r) => r.status), `${echo.url}/control`)
  expect(control).toBe(200)
  expect(echo.leaks().map((l) => l.path)).toContain('/control')
  echo.reset()

  const direct = await call(page, `${echo.url}/direct`)
  expect(direct).toMatchObject({ ok: true, status: 200 })
  expect(echo.requests.filter((r) => !r.preflight).map((r) => r.path)).toEqual(['/direct'])
  expect(echo.leaks()).toEqual([])

  const post = await call(page, `${echo.url}/post`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
  expect(post).toMatchObject({ ok: true, status: 200 })
  expect(echo.leaks()).toEqual([])

  // the API (allowed) answers a token-bearing request with a redirect to the echo server
  api.stats.reset()
  echo.reset()
  const viaRedirect = await call(page, `${api.url}/api/redirect?to=${encodeURIComponent(`${echo.url}/landing`)}`)
  test.info().annotations.push({ type: 'redirect outcome', description: JSON.stringify(viaRedirect) })
  expect(api.stats.log.map((r) => [r.path, r.scheme])).toEqual([['/api/redirect', 'Bearer']])
  expect(echo.leaks(), 'a token reached the foreign origin through the redirect').toEqual([])
  // the contract: such a redirect is not followed (OAuthError redirect_not_allowed)
  expect.soft(viaRedirect).toMatchObject({ ok: false, error: { code: 'redirect_not_allowed' } })
  if (viaRedirect.ok) expect(echo.requests.map((r) => r.path)).toContain('/landing')
  else expect(echo.requests).toEqual([])
})

test('h. logout in tab A: revocation, stores emptied, tab B signed out, tab A back at /logged-out after end-session', async ({ page, context, servers }) => {
  const { provider, api } = servers
  await signedIn(page, servers)
  const tabB = await openSignedInTab(context, servers)
  const { refreshToken } = await tokenValues(page, servers)
  expect(refreshToken).toBeTruthy()
  servers.resetStats()

  const endSession = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(`${provider.issuer}/session/end`))
  await page.evaluate(() => {
    void window.auth.logout()
  })
  const endSessionUrl = new URL((await endSession).url())
  expect(endSessionUrl.searchParams.get('post_logout_redirect_uri')).toBe(servers.postLogoutRedirectUri)
  await confirmProviderLogout(page, servers)

  expect(provider.stats.revocations).toBeGreaterThanOrEqual(1)
  expect(provider.stats.endSessions).toBe(1)
  // the refresh token is dead at the provider (end-session alone would not revoke it here:
  // the provider keeps refresh tokens across logout unless they are revoked)
  const reuse = await refresh(provider.issuer, { clientId: servers.clientId, refreshToken })
  expect(reuse.status).toBe(400)
  expect(reuse.json.error).toBe('invalid_grant')

  // every token store is empty
  const stores = await tokenStoreRecords(tabB)
  expect(stores).toEqual({ access_tokens: [], id_tokens: [], refresh_tokens: [] })

  // tab B learnt about it
  await waitForStatus(tabB, 'unauthenticated')
  expect((await events(tabB, 'logout')).length).toBeGreaterThanOrEqual(1)
  expect(await token(tabB)).toMatchObject({ ok: false, error: { code: 'login_required' } })
  // tab B's auth.fetch to the API: either refused by the SDK (login_required) or sent without a token
  api.stats.reset()
  const me = await call(tabB, `${api.url}/api/me`)
  test.info().annotations.push({ type: 'tab B auth.fetch after logout', description: JSON.stringify(me) })
  if (me.ok) {
    expect(me.status).toBe(401)
    expect(api.stats.schemes).toEqual(['none'])
  } else {
    expect(me.error).toMatchObject({ code: 'login_required' })
    expect(api.stats.schemes).toEqual([])
  }
})

test('i. a callback with a tampered state: invalid_state, no code redeemed, nothing stored', async ({ page, servers }) => {
  const { provider } = servers
  const app = servers.app.origin
  // ?callback=manual: the app leaves the callback to the test, so the real code stays unredeemed
  await openApp(page, servers, '/?callback=manual')
  await startLogin(page, servers, { returnTo: '/tampered' })
  await submitLogin(page)
  await page.waitForURL((u) => u.origin === app && u.pathname === '/callback')
  await waitForApp(page)
  expect(await page.evaluate(() => [window.__isCallback, window.__callback])).toEqual([true, undefined])
  const real = new URL(page.url())
  expect(real.searchParams.get('code')).toBeTruthy()
  expect(real.searchParams.get('state')).toBeTruthy()

  const storesBefore = await tokenStoreRecords(page)
  servers.resetStats()
  const tampered = new URL(real)
  tampered.searchParams.set('state', `${real.searchParams.get('state')}x`)
  await page.goto(tampered.href)
  await waitForApp(page)
  const outcome = await page.evaluate(() => window.e2e.handleCallback())
  expect(outcome).toMatchObject({ ok: false, code: 'invalid_state' })

  expect(provider.stats.requests.token ?? 0).toBe(0)
  expect(provider.stats.grants).toEqual({})
  expect(await tokenStoreRecords(page)).toEqual(storesBefore)
  expect(storesBefore).toEqual({ access_tokens: [], id_tokens: [], refresh_tokens: [] })
  expect((await snapshot(page)).status).not.toBe('authenticated')
})

test('j. a replayed callback URL: callback_already_handled, no second code grant, nothing new stored', async ({ page, servers }) => {
  const { provider, api } = servers
  const { callbackUrl } = await signedIn(page, servers)
  expect(new URL(callbackUrl).searchParams.get('code')).toBeTruthy()
  const before = await tokenValues(page, servers)
  servers.resetStats()

  await page.goto(callbackUrl)
  await waitForApp(page)
  const outcome = await page.evaluate(() => window.__callback ?? window.e2e.handleCallback())
  expect(outcome).toMatchObject({ ok: false, code: 'callback_already_handled' })

  expect(provider.stats.grants).toEqual({})
  expect(provider.stats.requests.token ?? 0).toBe(0)
  const after = await tokenValues(page, servers)
  const same = (k) => after[k] === before[k]
  expect({ access: same('accessToken'), refresh: same('refreshToken'), id: same('idToken') }, 'stored tokens changed').toEqual({ access: true, refresh: true, id: true })
  expect(after.records.access).toHaveLength(before.records.access.length)

  // the session itself is untouched by the replay
  await waitForStatus(page, 'authenticated')
  expect(await call(page, `${api.url}/api/me`)).toMatchObject({ ok: true, status: 200, body: { sub: 'alice' } })
})

test('k. the user cancels at the provider: authorization_error with error access_denied, nothing stored', async ({ page, servers }) => {
  const { provider } = servers
  const app = servers.app.origin
  await openApp(page, servers, '/')
  await startLogin(page, servers)
  const callbackRequest = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(`${app}/callback`))
  await page.click('#deny')
  const callbackUrl = new URL((await callbackRequest).url())
  expect(callbackUrl.searchParams.get('error')).toBe('access_denied')
  expect(callbackUrl.searchParams.get('iss')).toBe(provider.issuer)

  const outcome = await callbackOutcome(page)
  expect(outcome).toMatchObject({ ok: false, code: 'authorization_error', error: 'access_denied' })
  expect(provider.stats.logins.aborted).toBe(1)
  expect(provider.stats.requests.token ?? 0).toBe(0)
  expect(await tokenStoreRecords(page)).toEqual({ access_tokens: [], id_tokens: [], refresh_tokens: [] })
  expect((await readTokens(page, servers)).transactions, 'the transaction outlived its callback').toEqual([])
  await waitForStatus(page, 'unauthenticated')
})

test('l. checklist 29: login with extraParams.max_age: the provider asks for the password again and the ID token auth_time passes the max_age check', async ({ page, servers }) => {
  const { provider } = servers
  await signedIn(page, servers)
  // Two seconds later, max_age=1: the provider's session is too old, so it shows its form again
  // (signIn waits for that form) and the ID token carries auth_time, which the SDK checks.
  await page.waitForTimeout(2_000)
  const before = Math.floor(Date.now() / 1000)
  const { result, authorizationUrl } = await signIn(page, servers, { extraParams: { max_age: '1' } })
  expect(new URL(authorizationUrl).searchParams.get('max_age')).toBe('1')
  expect(result).toMatchObject({ ok: true, user: { sub: 'alice' } })
  expect(result.user.auth_time).toBeGreaterThanOrEqual(before - 1)
  expect(provider.stats.logins.ok).toBe(2)
  await waitForStatus(page, 'authenticated')
})

test('m. a refresh the provider refuses (a scope it will not grant): authorization_error with its error, the session and its tokens stay and still refresh; a resource outside the sign-in is refused before anything is sent', async ({ page, servers }) => {
  const { api, provider } = servers
  await signedIn(page, servers)
  const before = await tokenValues(page, servers)
  expect(await token(page, { scope: 'admin' })).toMatchObject({ ok: false, error: { code: 'authorization_error', error: 'invalid_scope' } })
  expect(provider.stats.errors).toEqual({ invalid_scope: 1 })
  // RFC 8707: not part of the sign-in, so not asked for (oidc-provider consumes the refresh token
  // while it refuses an unknown resource, which would end the session at the next refresh).
  expect(await token(page, { resource: 'https://unknown.example/' })).toMatchObject({ ok: false, error: { code: 'configuration_error' } })
  expect(provider.stats.errors).toEqual({ invalid_scope: 1 })
  expect(provider.stats.grants.refresh_token ?? 0).toBe(0)
  expect((await events(page, 'session_expired')).length).toBe(0)
  expect((await snapshot(page)).status).toBe('authenticated')
  const after = await tokenValues(page, servers)
  expect(after.refreshToken).toBe(before.refreshToken)
  expect(after.accessTokens).toEqual(before.accessTokens)
  expect(await call(page, `${api.url}/api/me`)).toMatchObject({ ok: true, status: 200 })
  // The refresh token was not consumed by the refusal: it still refreshes.
  expect(await token(page, { forceRefresh: true })).toMatchObject({ ok: true })
  expect(provider.stats.grants.refresh_token).toBe(1)
})

test('n. logout in tab A while tab B runs a route guard (login() as soon as it is signed out): B is sent to the provider\'s form (prompt=login), not silently signed back in', async ({ page, context, servers }) => {
  const { provider } = servers
  await signedIn(page, servers)
  const tabB = await openSignedInTab(context, servers)
  // What <RequireAuth> does in tab B.
  await tabB.evaluate(() => {
    window.auth.subscribe(() => {
      if (window.auth.getSnapshot().status === 'unauthenticated') void window.auth.login({ returnTo: '/protected' })
    })
  })
  servers.resetStats()
  const guardLogin = tabB.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(`${provider.issuer}/auth`))
  await page.evaluate(() => {
    void window.auth.logout()
  })
  const authorization = new URL((await guardLogin).url())
  expect(authorization.searchParams.get('prompt')).toBe('login')
  // The provider asks for the password, although tab A has not ended its session yet.
  await tabB.waitForURL((u) => u.href.startsWith(`${provider.issuer}/interaction/`))
  await expect(tabB.locator('input[name=login]')).toBeVisible()
  await confirmProviderLogout(page, servers)
  expect(provider.stats.grants.authorization_code ?? 0).toBe(0)
  expect((await snapshot(page)).status).toBe('unauthenticated')
})

test('o. a route guard\'s login() during a local-only logout in the same tab: the new sign-in keeps its transaction and completes', async ({ page, servers }) => {
  const { provider } = servers
  const app = servers.app.origin
  await signedIn(page, servers)
  servers.resetStats()
  await page.evaluate(() => {
    window.auth.subscribe(() => {
      if (window.auth.getSnapshot().status === 'unauthenticated') void window.auth.login({ returnTo: '/protected' })
    })
    void window.auth.logout({ localOnly: true })
  })
  await page.waitForURL((u) => u.href.startsWith(`${provider.issuer}/interaction/`))
  const callbackRequest = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(`${app}/callback`))
  await submitLogin(page)
  await callbackRequest
  await page.waitForURL((u) => u.origin === app)
  expect(await callbackOutcome(page)).toMatchObject({ ok: true, returnTo: '/protected', user: { sub: 'alice' } })
  expect(provider.stats.grants.authorization_code).toBe(1)
  await waitForStatus(page, 'authenticated')
})

test('p. auth.fetch behaves like fetch for what it does not touch: a Request with a body to another origin goes out intact, and the caller\'s referrer is honoured on an allowed origin', async ({ page, context, servers }) => {
  const { api, echo } = servers
  await signedIn(page, servers)
  const sent = await page.evaluate(async (url) => {
    const r = await window.auth.fetch(new Request(url, { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } }))
    return { status: r.status, body: await r.json() }
  }, `${echo.url}/collect`)
  expect(sent).toMatchObject({ status: 200, body: { method: 'POST', bodyLength: 5 } })
  expect(echo.leaks()).toEqual([])

  const requests = recordRequests(context)
  const statuses = await page.evaluate(async (url) => {
    const init = { referrer: '', referrerPolicy: 'unsafe-url' }
    const a = await window.auth.fetch(url, init)
    const b = await fetch(url, { ...init, headers: { authorization: 'Bearer x' } })
    return [a.status, b.status]
  }, `${api.url}/api/me`)
  expect(statuses[0]).toBe(200)
  const toApi = (await requests.settle()).filter((r) => r.url.startsWith(`${api.url}/api/me`) && r.method === 'GET')
  expect(toApi).toHaveLength(2)
  expect(toApi.map((r) => r.referer)).toEqual([null, null])
})

test('q. another user signs in in tab A while tab B\'s refresh answer is still on its way: B\'s rotated token never overwrites the new session, which keeps refreshing', async ({ page, context, servers }) => {
  const { provider } = servers
  await signedIn(page, servers)
  const tabB = await openSignedInTab(context, servers)
  // Tab B's refresh reaches the provider (the old grant rotates) but its answer is held back.
  const { release } = await refreshWithHeldAnswer(tabB, servers)
  // Tab A signs in as bob meanwhile. The answer to B is let through as soon as A is signed in as
  // bob, or after 3 s if A's sign-in waits for B's refresh to finish.
  const app = servers.app.origin
  await startLogin(page, servers, { prompt: 'login' })
  const callback = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(`${app}/callback`))
  await submitLogin(page, { username: 'bob', password: 'builder' })
  await callback
  await page.waitForURL((u) => u.origin === app)
  await Promise.race([
    page.waitForFunction(() => window.auth?.getSnapshot().user?.sub === 'bob', undefined, { timeout: 20_000 }),
    new Promise((r) => setTimeout(r, 3000)),
  ])
  expect(await release()).toBe('ok')
  expect(await callbackOutcome(page)).toMatchObject({ ok: true, user: { sub: 'bob' } })
  await waitForStatus(page, 'authenticated')
  const stored = await readTokens(page, servers)
  expect(stored.id.map((r) => r.value.sub)).toEqual(['bob'])
  expect(stored.refresh.map((r) => r.value.sub)).toEqual(['bob'])
  // Bob's session goes on refreshing, in both tabs, with no invalid_grant.
  servers.resetStats()
  await expect(token(page, { forceRefresh: true })).resolves.toMatchObject({ ok: true })
  await page.waitForFunction(() => window.auth.getSnapshot().user?.sub === 'bob')
  await tabB.waitForFunction(() => window.auth.getSnapshot().user?.sub === 'bob')
  await expect(token(tabB, { forceRefresh: true })).resolves.toMatchObject({ ok: true })
  expect(provider.stats.grants.refresh_token).toBe(2)
  expect(provider.stats.errors.invalid_grant ?? 0).toBe(0)
  expect((await call(page, `${servers.api.origin}/api/me`)).body).toMatchObject({ sub: 'bob' })
})

test('r. after a local-only logout and a reload, the next login() in that tab still asks the provider for its form (prompt=login) until the user signs in again; nothing of it is left in the token stores', async ({ page, servers }) => {
  const { provider } = servers
  await signedIn(page, servers)
  await page.evaluate(() => window.auth.logout({ localOnly: true }))
  await waitForStatus(page, 'unauthenticated')
  expect(await tokenStoreRecords(page)).toEqual({ access_tokens: [], id_tokens: [], refresh_tokens: [] })
  await page.reload()
  await waitForApp(page)
  await waitForStatus(page, 'unauthenticated')
  const authorization = new URL(await startLogin(page, servers))
  expect(authorization.searchParams.get('prompt')).toBe('login')
  // Once the user signed in again, a later login() (after a reload) is an ordinary one.
  const app = servers.app.origin
  const callback = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(`${app}/callback`))
  await submitLogin(page)
  await callback
  await page.waitForURL((u) => u.origin === app)
  expect(await callbackOutcome(page)).toMatchObject({ ok: true })
  await page.reload()
  await waitForApp(page)
  await waitForStatus(page, 'authenticated')
  const again = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(`${provider.issuer}/auth`))
  await page.evaluate(() => {
    void window.auth.login()
  })
  expect(new URL((await again).url()).searchParams.get('prompt')).toBeNull()
})

test('s. a local-only logout in tab A while tab B\'s refresh is finishing: A stays signed out (B\'s "refreshed" news does not sign it back in), the stores end empty', async ({ page, context, servers }) => {
  await signedIn(page, servers)
  const tabB = await openSignedInTab(context, servers)
  const { release } = await refreshWithHeldAnswer(tabB, servers)
  await page.evaluate(() => {
    window.__statuses = []
    window.auth.subscribe(() => window.__statuses.push(window.auth.getSnapshot().status))
    window.__logout = window.auth.logout({ localOnly: true }).then(() => 'done', (e) => e.code)
  })
  await waitForStatus(page, 'unauthenticated')
  expect(await release()).toBe('ok')
  expect(await page.evaluate(() => window.__logout)).toBe('done')
  await waitForStatus(tabB, 'unauthenticated')
  // Give B's "refreshed" message time to arrive and be handled in A.
  await page.waitForTimeout(500)
  expect(await page.evaluate(() => ({ statuses: window.__statuses, user: window.auth.getUser() ?? null }))).toEqual({ statuses: ['unauthenticated'], user: null })
  expect((await snapshot(page)).status).toBe('unauthenticated')
  expect(await tokenStoreRecords(page)).toEqual({ access_tokens: [], id_tokens: [], refresh_tokens: [] })
})

test('t. the same callback URL opened in two tabs at the same moment: one code grant; the other tab never gets invalid_state (callback_already_handled while the first is completing, or no callback at all once it completed); both end signed in', async ({ page, context, servers }) => {
  const { provider } = servers
  const app = servers.app.origin
  // This tab lands on the callback without handling it: its URL is then opened in two new tabs.
  await openApp(page, servers, '/?callback=manual')
  await waitForStatus(page, 'unauthenticated')
  await startLogin(page, servers)
  await submitLogin(page)
  await page.waitForURL((u) => u.origin === app && u.pathname === '/callback')
  await waitForApp(page)
  const callbackUrl = page.url()
  servers.resetStats()
  const tabs = [await context.newPage(), await context.newPage()]
  await Promise.all(tabs.map((tab) => tab.goto(callbackUrl)))
  const outcomes = []
  for (const tab of tabs) {
    await waitForStatus(tab, 'authenticated')
    outcomes.push(await tab.evaluate(async () => (window.__isCallback ? window.__callback : { ok: false, code: 'not a callback' })))
  }
  const codes = outcomes.map((o) => (o.ok ? 'ok' : o.code))
  expect(codes.filter((c) => c === 'ok')).toHaveLength(1)
  expect(codes.filter((c) => c !== 'ok')[0]).toMatch(/^(callback_already_handled|not a callback)$/)
  expect(provider.stats.grants.authorization_code).toBe(1)
})
