// DPoP (RFC 9449) end to end (issue 3): real Chromium, the SDK's bundle, oidc-provider with
// features.dPoP and an API that verifies proofs (signature, htm, htu, iat, jti, ath, cnf.jkt,
// optional nonce). The SDK is used through its public API only (window.auth / window.e2e); grants,
// retries and proofs are counted where they arrive: servers.provider.stats and servers.api.stats
// (api.stats.log[i].proof = { jkt, jti, htm, htu, nonce } of every proof whose signature verified).
//
// Checklist items covered: 15 (mode match, downgrade), 36 (non-extractable key as CryptoKey),
// 41 (caller DPoP header stripped), 44 (fresh proof and the body on a retry), 50 (bound refresh
// token), 51 (one key per session), 52 (nonce retry exactly once), 53 (htu/htm/ath), 54 (dpop_jkt).
import { expect, test } from './fixtures.mjs'
import {
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
  call,
  snapshot,
  token,
  tokenStoreRecords,
  confirmProviderLogout,
  openSignedInTab,
} from './support/browser-helpers.mjs'
import { dpopKeyRecordKeys, tamperDpopKey, inspectDpopKey, jktOf, namespaceOf } from './support/dpop-helpers.mjs'
import { callApi, createDpopKey, redeemCode, refresh } from './support/node-client.mjs'


/** [status, error] of each API request since the last reset. */
const apiOutcomes = (api) => api.stats.log.map((r) => [r.status, r.error ?? null])

async function reloadApp(page, status = 'authenticated') {
  await page.reload()
  await waitForApp(page)
  await waitForStatus(page, status)
}

test.describe('with provider and API nonces', () => {
  test.use({
    stack: {
      provider: { accessTokenTTL: 5, dpop: { requireNonce: true } },
      api: { dpop: { requireNonce: true } },
      appConfig: { dpop: true, refreshLeewaySeconds: 1 },
    },
  })

  test('DPoP with server nonces: bound tokens, proofs accepted by the API, refresh keeps the binding', async ({ page, servers }) => {
    const { provider, api } = servers
    await signedIn(page, servers)
    const grant = provider.stats.events.find((e) => e.type === 'grant.success' && e.grantType === 'authorization_code')
    expect(grant).toMatchObject({ dpop: true, audience: api.audience, accessTokenFormat: 'jwt' })

    const { accessToken, records } = await tokenValues(page, servers)
    expect(records.access[0].value.tokenType).toBe('dpop')
    const jkt = jktOf(accessToken)
    expect(jkt).toBeTruthy()

    // the key pair is in its own store, the private key not extractable
    const dump = await dumpIndexedDb(page)
    const keys = JSON.stringify(dump[DB_NAME].stores.dpop_keys)
    expect(keys).toContain('"type":"private","extractable":false')

    const me = await call(page, `${api.url}/api/me`)
    expect(me).toMatchObject({ ok: true, status: 200, body: { sub: 'alice', cnf: { jkt } } })
    // the first proof may lack the API's nonce: one use_dpop_nonce answer, then the retry succeeds
    expect(api.stats.schemes.every((s) => s === 'DPoP')).toBe(true)
    expect(api.stats.unauthorized.use_dpop_nonce ?? 0).toBeLessThanOrEqual(1)
    expect(Object.keys(api.stats.unauthorized).filter((k) => k !== 'use_dpop_nonce')).toEqual([])

    await waitUntilExpiring(accessToken, 1)
    servers.resetStats()
    const again = await call(page, `${api.url}/api/me`)
    expect(again).toMatchObject({ ok: true, status: 200, body: { sub: 'alice', cnf: { jkt } } })
    expect(provider.stats.grants).toEqual({ refresh_token: 1 })
    expect(provider.stats.errors).toEqual({})
    const refreshed = provider.stats.events.find((e) => e.type === 'grant.success')
    expect(refreshed).toMatchObject({ grantType: 'refresh_token', dpop: true, audience: api.audience })
    expect(jktOf((await tokenValues(page, servers)).accessToken)).toBe(jkt)
  })
})

test.describe('with provider and API nonces, long-lived tokens', () => {
  test.use({
    stack: {
      provider: { dpop: { requireNonce: true } },
      api: { dpop: { requireNonce: true } },
      appConfig: { dpop: true },
    },
  })

  test('5. a provider nonce costs one retry at the token endpoint, an API nonce one retry on the first call, and the nonce is remembered', async ({ page, servers }) => {
    const { provider, api } = servers
    await signedIn(page, servers)
    const { thumbprint } = await inspectDpopKey(page, namespaceOf(servers))

    // code exchange: one use_dpop_nonce answer, then the grant; nothing else at the token endpoint
    expect(provider.stats.requests.token).toBe(2)
    expect(provider.stats.grants).toEqual({ authorization_code: 1 })
    expect(provider.stats.grantErrors).toEqual({ authorization_code: { use_dpop_nonce: 1 } })

    // first API call: exactly one use_dpop_nonce 401, then 200 with the nonce, a fresh proof
    const me = `${api.url}/api/me`
    const first = await call(page, me)
    expect(first).toMatchObject({ ok: true, status: 200, body: { sub: 'alice' } })
    expect(apiOutcomes(api)).toEqual([[401, 'use_dpop_nonce'], [200, null]])
    const [noNonce, withNonce] = api.stats.log.map((r) => r.proof)
    expect(noNonce).toMatchObject({ jkt: thumbprint, nonce: null })
    expect(withNonce).toMatchObject({ jkt: thumbprint, nonce: api.dpopNonce })
    expect(withNonce.jti).not.toBe(noNonce.jti)

    // second call: the remembered nonce, no 401
    api.stats.reset()
    expect(await call(page, me)).toMatchObject({ ok: true, status: 200 })
    expect(apiOutcomes(api)).toEqual([[200, null]])
    expect(api.stats.log[0].proof).toMatchObject({ jkt: thumbprint, nonce: api.dpopNonce })

    // the API moves on (the remembered nonce is now two rotations old): one retry again, and the
    // POST body is sent again with a new proof (checklist 44)
    api.rotateDpopNonce()
    api.rotateDpopNonce()
    api.stats.reset()
    const posted = await call(page, `${api.url}/api/echo`, { method: 'POST', body: '{"n":1}', headers: { 'content-type': 'application/json' } })
    expect(posted).toMatchObject({ ok: true, status: 200, body: { method: 'POST', body: '{"n":1}', contentType: 'application/json', sub: 'alice' } })
    expect(apiOutcomes(api)).toEqual([[401, 'use_dpop_nonce'], [200, null]])
    expect(api.stats.log[1].proof.nonce).toBe(api.dpopNonce)
    expect(api.stats.log[1].proof.jti).not.toBe(api.stats.log[0].proof.jti)

    // a refresh in the same page reuses the provider nonce it remembered: one token request
    servers.resetStats()
    expect(await token(page, { forceRefresh: true })).toMatchObject({ ok: true })
    expect(provider.stats.requests.token).toBe(1)
    expect(provider.stats.grants).toEqual({ refresh_token: 1 })

    // nonces are not persisted: after a reload the refresh costs the one retry again (checklist 52)
    await reloadApp(page)
    // (a plain getAccessToken first: a forceRefresh as the very first call after a reload is test 5b)
    expect(await token(page)).toMatchObject({ ok: true })
    servers.resetStats()
    expect(await token(page, { forceRefresh: true })).toMatchObject({ ok: true })
    expect(provider.stats.requests.token).toBe(2)
    expect(provider.stats.grants).toEqual({ refresh_token: 1 })
    expect(provider.stats.grantErrors).toEqual({ refresh_token: { use_dpop_nonce: 1 } })
    expect((await inspectDpopKey(page, namespaceOf(servers))).thumbprint).toBe(thumbprint)
  })

  test('5b. getAccessToken({ forceRefresh: true }) right after a reload refreshes (with the one provider-nonce retry)', async ({ page, servers }) => {
    const { provider } = servers
    await signedIn(page, servers)
    const before = (await tokenValues(page, servers)).accessToken
    await reloadApp(page)
    servers.resetStats()
    const forced = await token(page, { forceRefresh: true })
    expect(forced).toMatchObject({ ok: true })
    expect(provider.stats.grants, 'forceRefresh as the first call after a reload did not refresh').toEqual({ refresh_token: 1 })
    expect(forced.token).not.toBe(before)
    expect(provider.stats.requests.token).toBe(2)
  })

  test('11. PAR with DPoP: the pushed request is bound to the key, each endpoint costs one nonce retry', async ({ page, servers }) => {
    const { provider, api } = servers
    const { authorizationUrl } = await signedIn(page, servers, { path: '/?par=1' })
    const auth = new URL(authorizationUrl)
    expect([...auth.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri'])
    const { thumbprint } = await inspectDpopKey(page, namespaceOf(servers))
    expect(provider.stats.requests.pushed_authorization_request).toBe(2)
    // the nonce learnt at the PAR endpoint died with the page that navigated away
    expect(provider.stats.requests.token).toBe(2)
    expect(provider.stats.grants).toEqual({ authorization_code: 1 })
    expect(jktOf((await tokenValues(page, servers)).accessToken)).toBe(thumbprint)
    expect(await call(page, `${api.url}/api/me`)).toMatchObject({ ok: true, status: 200, body: { cnf: { jkt: thumbprint } } })
  })
})

test.describe('DPoP without nonces', () => {
  test.use({ stack: { appConfig: { dpop: true } } })

  test('1. sign-in with DPoP: dpop_jkt on the authorization request = stored key = cnf.jkt; auth.fetch is accepted', async ({ page, servers }) => {
    const { provider, api } = servers
    const { authorizationUrl } = await signedIn(page, servers)
    const key = await inspectDpopKey(page, namespaceOf(servers))
    expect(key.present).toBe(true)
    expect(key.thumbprint).toMatch(/^[A-Za-z0-9_-]{43}$/)

    const dpopJkt = new URL(authorizationUrl).searchParams.getAll('dpop_jkt')
    expect(dpopJkt).toEqual([key.thumbprint])

    const grant = provider.stats.events.find((e) => e.type === 'grant.success' && e.grantType === 'authorization_code')
    expect(grant).toMatchObject({ dpop: true, audience: api.audience, accessTokenFormat: 'jwt' })
    expect(provider.stats.requests.token).toBe(1)

    const { accessToken, records } = await tokenValues(page, servers)
    expect(records.access[0].value.tokenType).toBe('dpop')
    expect(jktOf(accessToken)).toBe(key.thumbprint)

    const me = await call(page, `${api.url}/api/me`)
    expect(me).toMatchObject({ ok: true, status: 200, body: { sub: 'alice', cnf: { jkt: key.thumbprint } } })
    expect(api.stats.log).toHaveLength(1)
    expect(api.stats.log[0]).toMatchObject({ scheme: 'DPoP', dpopProof: true, status: 200 })
    expect(api.stats.log[0].proof).toMatchObject({ jkt: key.thumbprint, htm: 'GET', htu: `${api.url}/api/me`, nonce: null })
  })

  test('2. the bound access token is refused without the key: as Bearer, with another key\'s proof, without a proof, with a replayed proof', async ({ page, servers }) => {
    const { api } = servers
    await signedIn(page, servers)
    const { accessToken } = await tokenValues(page, servers)
    const me = `${api.url}/api/me`

    // capture the SDK's own proof on the wire, to replay it
    const onWire = page.waitForRequest((r) => r.url() === me && r.method() === 'GET')
    expect(await call(page, me)).toMatchObject({ ok: true, status: 200 })
    const sdkProof = (await (await onWire).allHeaders()).dpop
    expect(sdkProof).toBeTruthy()
    api.stats.reset()

    // from Node (an attacker who stole the token)
    const asBearer = await callApi(me, accessToken)
    expect(asBearer.status).toBe(401)
    expect(asBearer.wwwAuthenticate).toMatch(/^Bearer error="invalid_token", error_description="DPoP-bound access token presented as a Bearer token"/)

    const otherKey = await createDpopKey()
    const wrongKey = await callApi(me, accessToken, { dpop: otherKey })
    expect(wrongKey.status).toBe(401)
    expect(wrongKey.wwwAuthenticate).toMatch(/^DPoP error="invalid_token", error_description="DPoP proof key does not match the token binding \(cnf.jkt\)"/)

    const noProof = await callApi(me, accessToken, { scheme: 'DPoP' })
    expect(noProof.status).toBe(401)
    expect(noProof.wwwAuthenticate).toMatch(/^DPoP error="invalid_dpop_proof", error_description="DPoP proof missing"/)

    const replay = await fetch(me, { headers: { authorization: `DPoP ${accessToken}`, dpop: sdkProof } })
    expect(replay.status).toBe(401)
    expect(replay.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_dpop_proof", error_description="DPoP proof jti replayed"/)

    // from the page, with plain fetch (script in the page that read the token)
    const inPage = await page.evaluate(async ([url, at]) => {
      const r = await fetch(url, { headers: { authorization: `Bearer ${at}` } })
      return { status: r.status, wwwAuthenticate: r.headers.get('www-authenticate') }
    }, [me, accessToken])
    expect(inPage).toEqual({ status: 401, wwwAuthenticate: expect.stringMatching(/^Bearer error="invalid_token"/) })

    expect(api.stats.ok).toBe(0)
    expect(api.stats.unauthorized).toEqual({ invalid_token: 3, invalid_dpop_proof: 2 })

    // the SDK itself still gets in
    expect(await call(page, me)).toMatchObject({ ok: true, status: 200 })
  })

  test('3. the stored private key is a non-extractable CryptoKey: exportKey rejects with InvalidAccessError', async ({ page, servers }) => {
    await signedIn(page, servers)
    const key = await inspectDpopKey(page, namespaceOf(servers))
    expect(key).toMatchObject({
      present: true,
      recordFields: ['keyPair', 'v'],
      v: 1,
      isCryptoKey: { privateKey: true, publicKey: true },
      privateKey: { type: 'private', extractable: false, algorithm: 'ECDSA', namedCurve: 'P-256', usages: ['sign'] },
      publicKey: { type: 'public', extractable: true, algorithm: 'ECDSA', namedCurve: 'P-256' },
      hasPrivateJwkMember: false,
      exportPrivate: { ok: false, name: 'InvalidAccessError' },
    })
    // one key record, under this client's namespace only
    expect(await dpopKeyRecordKeys(page)).toEqual([namespaceOf(servers)])
    // and nothing of the key in web storage
    const web = await webStorage(page)
    const text = JSON.stringify(web)
    expect(text).not.toContain(key.publicJwk.x)
    expect(text).not.toMatch(/keyPair|"d":/)
  })

  test('6. an API that demands a new nonce on every request: auth.fetch returns its 401 after exactly one retry', async ({ page, servers }) => {
    const { provider, api } = servers
    await signedIn(page, servers)
    expect(await call(page, `${api.url}/api/me`)).toMatchObject({ ok: true, status: 200 })

    api.dpop.alwaysNewNonce = true
    servers.resetStats()
    const r = await call(page, `${api.url}/api/me`)
    expect(r).toMatchObject({ ok: true, status: 401 })
    expect(r.wwwAuthenticate).toMatch(/^DPoP error="use_dpop_nonce"/)
    expect(apiOutcomes(api)).toEqual([[401, 'use_dpop_nonce'], [401, 'use_dpop_nonce']])
    const [a, b] = api.stats.log.map((x) => x.proof)
    expect(a.nonce).toBeNull()
    expect(b.nonce).toEqual(expect.any(String))
    expect(b.jti).not.toBe(a.jti)
    // a nonce challenge is not an invalid token: no refresh
    expect(provider.stats.requests.token).toBeUndefined()

    // the next call is bounded the same way, and the session is untouched
    api.stats.reset()
    expect(await call(page, `${api.url}/api/me`)).toMatchObject({ ok: true, status: 401 })
    expect(api.stats.requests).toBe(2)
    expect((await snapshot(page)).status).toBe('authenticated')

    api.dpop.alwaysNewNonce = false
    api.stats.reset()
    expect(await call(page, `${api.url}/api/me`)).toMatchObject({ ok: true, status: 200 })
    expect(api.stats.requests).toBe(1)
  })

  test('7. logout deletes the key; the next sign-in uses a new key and binds to it', async ({ page, servers }) => {
    const { provider, api } = servers
    const first = await signedIn(page, servers)
    const before = await inspectDpopKey(page, namespaceOf(servers))
    expect(new URL(first.authorizationUrl).searchParams.get('dpop_jkt')).toBe(before.thumbprint)

    await page.evaluate(() => {
      void window.auth.logout()
    })
    await confirmProviderLogout(page, servers)
    expect(provider.stats.revocations).toBe(1)

    expect(await dpopKeyRecordKeys(page)).toEqual([])
    expect((await inspectDpopKey(page, namespaceOf(servers))).present).toBe(false)

    const second = await signIn(page, servers)
    expect(second.result).toMatchObject({ ok: true })
    await waitForStatus(page, 'authenticated')
    const after = await inspectDpopKey(page, namespaceOf(servers))
    expect(after.present).toBe(true)
    expect(after.thumbprint).not.toBe(before.thumbprint)
    expect(new URL(second.authorizationUrl).searchParams.get('dpop_jkt')).toBe(after.thumbprint)
    expect(jktOf((await tokenValues(page, servers)).accessToken)).toBe(after.thumbprint)

    api.stats.reset()
    expect(await call(page, `${api.url}/api/me`)).toMatchObject({ ok: true, status: 200 })
    expect(api.stats.log[0].proof.jkt).toBe(after.thumbprint)
  })

  test('8. the stored key deleted while tokens remain: the next auth.fetch ends the session cleanly and sends no proof', async ({ page, context, servers }) => {
    const { provider, api } = servers
    await signedIn(page, servers)
    expect(await call(page, `${api.url}/api/me`)).toMatchObject({ ok: true, status: 200 })

    await tamperDpopKey(page, namespaceOf(servers), 'delete')
    await reloadApp(page)
    const tabB = await openSignedInTab(context, servers)
    expect((await tokenValues(page, servers)).accessToken).toBeTruthy()
    servers.resetStats()

    const r = await call(page, `${api.url}/api/me`)
    expect(r).toMatchObject({ ok: false, error: { code: 'login_required', isOAuthError: true } })
    await waitForStatus(page, 'unauthenticated')
    expect((await events(page, 'session_expired')).length).toBe(1)
    // no request reached the API (so none with a proof from another key), no grant was tried
    expect(api.stats.requests).toBe(0)
    expect(api.stats.preflights).toBe(0)
    expect(provider.stats.requests.token).toBeUndefined()
    // the tokens bound to the lost key are gone, and no new key was made behind the app's back
    const t = await readTokens(page, servers)
    expect([t.access, t.refresh, t.id]).toEqual([[], [], []])
    expect(await dpopKeyRecordKeys(page)).toEqual([])
    expect(await token(page)).toMatchObject({ ok: false, error: { code: 'login_required' } })

    await waitForStatus(tabB, 'unauthenticated')

    // "cleanly", as when a refresh token dies (test 8b): the session expired, the user did not log
    // out; the snapshot says why, and the other tab hears `session_expired`, not `logout`
    expect.soft(await events(page, 'logout'), 'a lost DPoP key is reported as a user logout too').toEqual([])
    expect.soft((await snapshot(page)).error, 'the snapshot does not say why the session ended').toMatchObject({ code: 'login_required' })
    expect.soft(await events(tabB, 'session_expired'), 'tab B hears no session_expired').toHaveLength(1)
    expect.soft(await events(tabB, 'logout'), 'tab B hears a logout').toEqual([])
  })

  test('9. a caller\'s DPoP header is replaced by the SDK\'s proof; htu/htm/ath are right; other origins get neither header', async ({ page, servers }) => {
    const { api, echo } = servers
    await signedIn(page, servers)
    const { thumbprint } = await inspectDpopKey(page, namespaceOf(servers))
    const { accessToken } = await tokenValues(page, servers)
    const me = `${api.url}/api/me`
    const otherKey = await createDpopKey()
    const forged = await otherKey.proof('GET', me, { accessToken })
    api.stats.reset()

    for (const headers of [{ DPoP: forged }, { dpop: 'not-even-a-jwt' }]) {
      const onWire = page.waitForRequest((r) => r.url() === me && r.method() === 'GET')
      const r = await call(page, me, { headers })
      expect(r).toMatchObject({ ok: true, status: 200 })
      const sent = (await (await onWire).allHeaders()).dpop
      expect(sent).not.toContain(forged)
      expect(sent.split(',')).toHaveLength(1)
    }
    expect(apiOutcomes(api)).toEqual([[200, null], [200, null]])
    expect(api.stats.log.map((x) => x.proof.jkt)).toEqual([thumbprint, thumbprint])

    // checklist 53: htu without query and fragment after URL normalisation, htm upper case
    api.stats.reset()
    const odd = await call(page, `${api.url}/api/x/../echo?x=1#frag`, { method: 'post', body: 'hi', headers: { 'content-type': 'text/plain' } })
    expect(odd).toMatchObject({ ok: true, status: 200, body: { method: 'POST', body: 'hi' } })
    expect(api.stats.log[0].proof).toMatchObject({ jkt: thumbprint, htm: 'POST', htu: `${api.url}/api/echo` })

    // a foreign origin: neither Authorization nor DPoP, not even announced in a preflight
    echo.reset()
    const foreign = await call(page, `${echo.url}/collect`, { method: 'POST', body: 'x', headers: { 'content-type': 'application/json', 'x-custom': '1' } })
    expect(foreign).toMatchObject({ ok: true, status: 200 })
    const plainGet = await call(page, `${echo.url}/collect?y=2`)
    expect(plainGet).toMatchObject({ ok: true, status: 200 })
    expect(echo.requests.filter((r) => !r.preflight).map((r) => r.method)).toEqual(['POST', 'GET'])
    expect(echo.leaks()).toEqual([])
  })

  test('12. storage: memory: the key lives in memory only, the tokens are still bound and accepted', async ({ page, servers }) => {
    const { api } = servers
    const { authorizationUrl } = await signedIn(page, servers, { path: '/?storage=memory' })
    // a key that cannot survive the redirect cannot bind the code: no dpop_jkt (by design)
    expect(new URL(authorizationUrl).searchParams.has('dpop_jkt')).toBe(false)
    expect(await dpopKeyRecordKeys(page)).toEqual([])
    const me = await call(page, `${api.url}/api/me`)
    expect(me).toMatchObject({ ok: true, status: 200, body: { cnf: { jkt: expect.any(String) } } })
    expect(api.stats.log[0].proof.jkt).toBe(me.body.cnf.jkt)
    expect(JSON.stringify(await webStorage(page))).not.toMatch(/keyPair|"d":/)
    // a reload ends the session (and its key)
    await reloadApp(page, 'unauthenticated')
    expect(await token(page)).toMatchObject({ ok: false, error: { code: 'login_required' } })
  })

  test('12b. storage: memory with PAR: the pushed request carries no proof (it would bind the code to a key the redirect loses), and the sign-in completes', async ({ page, servers }) => {
    const { api, provider } = servers
    const { authorizationUrl, result } = await signedIn(page, servers, { path: '/?storage=memory&par=1' })
    expect(result).toMatchObject({ ok: true, user: { sub: 'alice' } })
    expect([...new URL(authorizationUrl).searchParams.keys()].sort()).toEqual(['client_id', 'request_uri'])
    expect(provider.stats.grants).toEqual({ authorization_code: 1 })
    const me = await call(page, `${api.url}/api/me`)
    expect(me).toMatchObject({ ok: true, status: 200, body: { cnf: { jkt: expect.any(String) } } })
  })

  for (const shape of ['null-pair', 'rsa']) {
    test(`8c. a corrupted key record (${shape}) after a reload: the next auth.fetch ends the session cleanly (session_expired, login_required), never a bare TypeError, and sends nothing`, async ({ page, servers }) => {
      const { provider, api } = servers
      await signedIn(page, servers)
      await tamperDpopKey(page, namespaceOf(servers), shape)
      await reloadApp(page)
      servers.resetStats()
      const r = await call(page, `${api.url}/api/me`)
      expect(r).toMatchObject({ ok: false, error: { code: 'login_required', isOAuthError: true } })
      await waitForStatus(page, 'unauthenticated')
      expect((await events(page, 'session_expired')).length).toBe(1)
      expect(api.stats.requests).toBe(0)
      expect(provider.stats.requests.token).toBeUndefined()
    })
  }

  test('54. a stolen code redeemed with another key is refused by the provider (dpop_jkt binds the code)', async ({ page, servers }) => {
    const { provider, api } = servers
    const app = servers.app.origin
    await openApp(page, servers, '/?callback=manual')
    const authorizationUrl = await startLogin(page, servers)
    const jkt = new URL(authorizationUrl).searchParams.get('dpop_jkt')
    expect(jkt).toBeTruthy()
    const callbackRequest = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(`${app}/callback`))
    await submitLogin(page)
    const callbackUrl = new URL((await callbackRequest).url())
    await page.waitForURL((u) => u.origin === app)
    await waitForApp(page)
    const code = callbackUrl.searchParams.get('code')
    // the attacker even has the PKCE verifier (read from the pending transaction): only the key is missing
    const txn = (await readTokens(page, servers)).transactions.find((r) => r.value.state === callbackUrl.searchParams.get('state'))
    expect(txn?.value.dpopJkt).toBe(jkt)
    const attacker = await createDpopKey()
    const stolen = await redeemCode(provider.issuer, { clientId: servers.clientId, redirectUri: servers.redirectUri, code, verifier: txn.value.codeVerifier, resource: api.audience }, { dpop: attacker })
    expect(stolen.status).toBe(400)
    expect(stolen.json.error).toBe('invalid_grant')
    expect(stolen.json.access_token).toBeUndefined()
    expect(provider.stats.events.filter((e) => e.type === 'grant.error').map((e) => e.detail)).toEqual([
      expect.stringMatching(/dpop_jkt/),
    ])
    expect(provider.stats.grants).toEqual({})
  })
})

test.describe('DPoP with short-lived access tokens', () => {
  test.use({ stack: { provider: { accessTokenTTL: 5 }, appConfig: { dpop: true, refreshLeewaySeconds: 1 } } })

  test('4. after a reload the same key is used, and the bound refresh token refreshes with a proof from it (one grant)', async ({ page, servers }) => {
    const { provider, api } = servers
    await signedIn(page, servers)
    const before = await inspectDpopKey(page, namespaceOf(servers))
    const { accessToken, refreshToken } = await tokenValues(page, servers)

    await reloadApp(page)
    const after = await inspectDpopKey(page, namespaceOf(servers))
    expect(after.thumbprint).toBe(before.thumbprint)

    await waitUntilExpiring(accessToken, 1)
    servers.resetStats()
    const me = await call(page, `${api.url}/api/me`)
    expect(me).toMatchObject({ ok: true, status: 200, body: { sub: 'alice', cnf: { jkt: before.thumbprint } } })
    expect(provider.stats.grants).toEqual({ refresh_token: 1 })
    expect(provider.stats.requests.token).toBe(1)
    expect(provider.stats.errors).toEqual({})
    expect(provider.stats.events.find((e) => e.type === 'grant.success')).toMatchObject({ grantType: 'refresh_token', dpop: true })
    expect(api.stats.log.map((r) => [r.status, r.proof?.jkt])).toEqual([[200, before.thumbprint]])

    const now = await tokenValues(page, servers)
    expect(now.accessToken).not.toBe(accessToken)
    expect(now.refreshToken).not.toBe(refreshToken)
    expect(jktOf(now.accessToken)).toBe(before.thumbprint)
    expect((await events(page, 'token_refreshed')).length).toBe(1)

    // the refresh token is bound to the key (checklist 50): a proof from another key is refused
    const stolen = await refresh(provider.issuer, { clientId: servers.clientId, refreshToken: now.refreshToken }, { dpop: await createDpopKey() })
    expect(stolen.status).toBe(400)
    expect(stolen.json.error).toBe('invalid_grant')
  })

  test('8b. the stored key deleted and the access token expiring: the session ends without a refresh grant', async ({ page, servers }) => {
    const { provider, api } = servers
    await signedIn(page, servers)
    const { accessToken } = await tokenValues(page, servers)
    await tamperDpopKey(page, namespaceOf(servers), 'delete')
    await reloadApp(page)
    await waitUntilExpiring(accessToken, 1)
    servers.resetStats()

    const r = await call(page, `${api.url}/api/me`)
    expect(r).toMatchObject({ ok: false, error: { code: 'login_required' } })
    await waitForStatus(page, 'unauthenticated')
    expect((await events(page, 'session_expired')).length).toBe(1)
    expect(provider.stats.requests.token).toBeUndefined()
    expect(api.stats.requests).toBe(0)
    const t = await readTokens(page, servers)
    expect([t.access, t.refresh, t.id]).toEqual([[], [], []])
    expect(await dpopKeyRecordKeys(page)).toEqual([])
    // this path goes through the session's own end: no logout event, the snapshot says why
    expect(await events(page, 'logout')).toEqual([])
    expect((await snapshot(page)).error).toMatchObject({ code: 'login_required' })
  })
})

test.describe('token_type and the DPoP mode (checklist 15)', () => {
  test.describe('Bearer mode', () => {
    test.use({ stack: { appConfig: { dpop: false } } })

    test('10a. a client without DPoP gets Bearer tokens, sends no proof and keeps no key', async ({ page, servers }) => {
      const { provider, api } = servers
      const { authorizationUrl } = await signedIn(page, servers)
      expect(new URL(authorizationUrl).searchParams.has('dpop_jkt')).toBe(false)
      expect(provider.stats.events.find((e) => e.type === 'grant.success')).toMatchObject({ grantType: 'authorization_code', dpop: false })
      const { accessToken, records } = await tokenValues(page, servers)
      expect(records.access[0].value.tokenType).toBe('bearer')
      expect(jktOf(accessToken)).toBeUndefined()
      expect(await dpopKeyRecordKeys(page)).toEqual([])

      expect(await call(page, `${api.url}/api/me`)).toMatchObject({ ok: true, status: 200 })
      expect(api.stats.log.map((r) => [r.scheme, r.dpopProof, r.status])).toEqual([['Bearer', false, 200]])
    })
  })

  test.describe('provider without DPoP', () => {
    test.use({ stack: { provider: { dpop: { enabled: false } }, appConfig: { dpop: true } } })

    test('10b. DPoP asked for, Bearer answered: the sign-in fails with dpop_error and nothing is stored', async ({ page, servers }) => {
      const { provider } = servers
      await openApp(page, servers, '/')
      const { result } = await signIn(page, servers)
      expect(result).toMatchObject({ ok: false, code: 'dpop_error' })
      expect(result.message).toMatch(/bearer/i)
      // the provider did issue (Bearer) tokens for the proof it ignored; the SDK discarded them
      expect(provider.stats.grants).toEqual({ authorization_code: 1 })
      await waitForStatus(page, 'unauthenticated')
      const t = await readTokens(page, servers)
      expect([t.access, t.refresh, t.id]).toEqual([[], [], []])
      expect(await token(page)).toMatchObject({ ok: false, error: { code: 'login_required' } })
    })
  })
})
